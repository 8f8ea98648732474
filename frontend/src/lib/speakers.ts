/** Speaker colours (distinct in light and dark themes) and display names after renaming. */

export interface SpeakerColor {
  /** Text and accents on a light background. */
  light: string;
  /** Text and accents on a dark background. */
  dark: string;
}

// Ten hues far apart on the colour wheel; each pair meets WCAG AA as text on white / slate-900.
export const PALETTE: readonly SpeakerColor[] = [
  { light: '#1d4ed8', dark: '#93c5fd' }, // blue
  { light: '#b45309', dark: '#fcd34d' }, // amber
  { light: '#047857', dark: '#6ee7b7' }, // emerald
  { light: '#be185d', dark: '#f9a8d4' }, // pink
  { light: '#6d28d9', dark: '#c4b5fd' }, // violet
  { light: '#0e7490', dark: '#67e8f9' }, // cyan
  { light: '#b91c1c', dark: '#fca5a5' }, // red
  { light: '#4d7c0f', dark: '#bef264' }, // lime
  { light: '#a21caf', dark: '#f0abfc' }, // fuchsia
  { light: '#475569', dark: '#cbd5e1' }, // slate
];

export type SpeakerNames = Readonly<Record<string, string>>;

/** The speakers' labels in order of first appearance. */
export function speakerOrder(labels: Iterable<string | null | undefined>): string[] {
  const seen = new Set<string>();
  for (const label of labels) if (label) seen.add(label);
  return [...seen];
}

export function colorOf(label: string | null | undefined, order: readonly string[]): SpeakerColor {
  const index = label ? order.indexOf(label) : -1;
  return PALETTE[(index < 0 ? order.length : index) % PALETTE.length] ?? PALETTE[0]!;
}

/** The name to show for a label: the person's rename, or the server's label. */
export function displayName(label: string | null | undefined, names: SpeakerNames): string {
  if (!label) return 'Unknown speaker';
  return names[label]?.trim() || label;
}

/** CSS variables for one speaker's colour (used with `text-(--spk)` classes). */
export function speakerStyle(color: SpeakerColor): Record<string, string> {
  return { '--spk-light': color.light, '--spk-dark': color.dark };
}
