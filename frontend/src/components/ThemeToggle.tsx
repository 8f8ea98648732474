import type { Theme } from '../lib/theme';
import { MonitorIcon, MoonIcon, SunIcon } from './icons';
import { cx, focusRing } from './ui';

const CHOICES: { theme: Theme; label: string; Icon: typeof SunIcon }[] = [
  { theme: 'system', label: 'System theme', Icon: MonitorIcon },
  { theme: 'light', label: 'Light theme', Icon: SunIcon },
  { theme: 'dark', label: 'Dark theme', Icon: MoonIcon },
];

/** Three buttons in a group: follow the system, light, or dark. */
export function ThemeToggle({ theme, onChange }: { theme: Theme; onChange: (theme: Theme) => void }) {
  return (
    <div role="group" aria-label="Theme" className="flex rounded-lg p-0.5 ring-1 ring-inset ring-slate-300 dark:ring-slate-700">
      {CHOICES.map(({ theme: value, label, Icon }) => (
        <button
          key={value}
          type="button"
          aria-pressed={theme === value}
          aria-label={label}
          title={label}
          onClick={() => onChange(value)}
          className={cx(
            'rounded-md p-1.5',
            theme === value
              ? 'bg-slate-200 text-slate-900 dark:bg-slate-700 dark:text-white'
              : 'text-slate-500 hover:text-slate-800 dark:text-slate-400 dark:hover:text-slate-100',
            focusRing,
          )}
        >
          <Icon width={18} height={18} />
        </button>
      ))}
    </div>
  );
}
