import { useId, useState, type ReactNode } from 'react';
import type { ModelOut, TextRuleSet } from '../api/client';
import type { KnownSpeakerClip, TranscribeOptions } from '../api/transcribe';
import { LANGUAGES, languageName, mediaDuration, readAsDataUrl } from '../lib/clips';
import { PlusIcon, TrashIcon } from './icons';
import { Button, cx, focusRing, inputClass } from './ui';

type Change = (patch: Partial<TranscribeOptions>) => void;

function Fieldset({ legend, description, children }: { legend: string; description?: string; children: ReactNode }) {
  return (
    <fieldset className="min-w-0 rounded-xl p-4 ring-1 ring-slate-200 dark:ring-slate-800">
      <legend className="px-1 text-sm font-semibold">{legend}</legend>
      {description && <p className="-mt-1 mb-3 text-sm text-slate-600 dark:text-slate-400">{description}</p>}
      <div className="space-y-3">{children}</div>
    </fieldset>
  );
}

function Check({
  label,
  hint,
  checked,
  onChange,
  disabled,
}: {
  label: string;
  hint?: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className="flex gap-2.5">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        disabled={disabled}
        onChange={(event) => onChange(event.target.checked)}
        aria-describedby={hint ? `${id}-hint` : undefined}
        className={cx('mt-0.5 size-4 shrink-0 rounded accent-indigo-600', focusRing)}
      />
      <div>
        <label htmlFor={id} className={cx('text-sm font-medium', disabled && 'text-slate-400 dark:text-slate-500')}>
          {label}
        </label>
        {hint && (
          <p id={`${id}-hint`} className="text-sm text-slate-600 dark:text-slate-400">
            {hint}
          </p>
        )}
      </div>
    </div>
  );
}

function NumberField({
  label,
  value,
  onChange,
  disabled,
}: {
  label: string;
  value: number | null;
  onChange: (value: number | null) => void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className="min-w-0">
      <label htmlFor={id} className="mb-1 block text-sm font-medium">
        {label}
      </label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={1}
        max={32}
        step={1}
        placeholder="auto"
        value={value ?? ''}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value === '' ? null : Number(event.target.value))}
        className={inputClass}
      />
    </div>
  );
}

function KnownSpeakers({ clips, onChange, disabled }: { clips: KnownSpeakerClip[]; onChange: (clips: KnownSpeakerClip[]) => void; disabled?: boolean }) {
  const [notes, setNotes] = useState<Record<number, string>>({});
  const update = (index: number, patch: Partial<KnownSpeakerClip>): void =>
    onChange(clips.map((clip, i) => (i === index ? { ...clip, ...patch } : clip)));
  const remove = (index: number): void => {
    onChange(clips.filter((_, i) => i !== index));
    setNotes({});
  };
  const choose = async (index: number, file: File | undefined): Promise<void> => {
    if (!file) return;
    const reference = await readAsDataUrl(file);
    update(index, { reference });
    const seconds = await mediaDuration(reference);
    const note =
      seconds === null
        ? `${file.name}`
        : seconds < 2 || seconds > 10
          ? `${file.name}: ${seconds.toFixed(1)} s. Clips must be 2 to 10 s long.`
          : `${file.name}: ${seconds.toFixed(1)} s`;
    setNotes((current) => ({ ...current, [index]: note }));
  };
  return (
    <div className="space-y-3">
      {clips.map((clip, index) => (
        <div key={index} className="grid grid-cols-1 gap-2 rounded-lg bg-slate-50 p-3 sm:grid-cols-[1fr_1fr_auto] sm:items-end dark:bg-slate-800/60">
          <div>
            <label htmlFor={`known-name-${index}`} className="mb-1 block text-sm font-medium">
              Name
            </label>
            <input
              id={`known-name-${index}`}
              value={clip.name}
              disabled={disabled}
              onChange={(event) => update(index, { name: event.target.value })}
              className={inputClass}
              placeholder="Diane"
            />
          </div>
          <div>
            <label htmlFor={`known-clip-${index}`} className="mb-1 block text-sm font-medium">
              Voice clip (2–10 s)
            </label>
            <input
              id={`known-clip-${index}`}
              type="file"
              accept="audio/*,.wav,.mp3,.flac,.m4a,.ogg,.opus,.webm"
              disabled={disabled}
              onChange={(event) => void choose(index, event.target.files?.[0])}
              className={cx(
                'block w-full text-sm file:mr-2 file:rounded-md file:border-0 file:bg-slate-200 file:px-2.5 file:py-1.5 file:text-sm file:font-medium dark:file:bg-slate-700 dark:file:text-slate-100',
                focusRing,
              )}
            />
          </div>
          <Button size="sm" variant="ghost" onClick={() => remove(index)} aria-label={`Remove known speaker ${clip.name || index + 1}`} disabled={disabled}>
            <TrashIcon width={18} height={18} />
          </Button>
          {notes[index] && <p className="text-xs text-slate-600 sm:col-span-3 dark:text-slate-400">{notes[index]}</p>}
        </div>
      ))}
      <Button size="sm" onClick={() => onChange([...clips, { name: '', reference: '' }])} disabled={disabled || clips.length >= 10}>
        <PlusIcon width={16} height={16} /> Add a known speaker
      </Button>
    </div>
  );
}

/** Every option, visible before the first transcription. */
export function OptionsPanel({
  options,
  onChange,
  models,
  textRules,
  disabled,
}: {
  options: TranscribeOptions;
  onChange: Change;
  models: ModelOut[] | null;
  textRules: TextRuleSet[] | null;
  disabled?: boolean;
}) {
  const modelId = useId();
  const languageId = useId();
  const promptId = useId();
  const speakersOff = disabled || !options.diarize;
  const defaultModel = models?.[0]?.id;
  return (
    <div className="grid items-start gap-4 lg:grid-cols-2">
      <Fieldset legend="Speakers" description="Leave the counts empty to let Scribe find how many people speak.">
        <Check
          label="Tell speakers apart"
          checked={options.diarize}
          disabled={disabled}
          onChange={(diarize) => onChange({ diarize })}
        />
        <div className="grid grid-cols-3 gap-2">
          <NumberField label="Exactly" value={options.numSpeakers} disabled={speakersOff} onChange={(numSpeakers) => onChange({ numSpeakers })} />
          <NumberField
            label="At least"
            value={options.minSpeakers}
            disabled={speakersOff || options.numSpeakers !== null}
            onChange={(minSpeakers) => onChange({ minSpeakers })}
          />
          <NumberField
            label="At most"
            value={options.maxSpeakers}
            disabled={speakersOff || options.numSpeakers !== null}
            onChange={(maxSpeakers) => onChange({ maxSpeakers })}
          />
        </div>
        <div>
          <p className="text-sm font-medium">Known speakers</p>
          <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">Name people by a short clip of their voice.</p>
          <KnownSpeakers clips={options.knownSpeakers} onChange={(knownSpeakers) => onChange({ knownSpeakers })} disabled={speakersOff} />
        </div>
      </Fieldset>

      <div className="grid content-start gap-4">
        <Fieldset legend="Recognition">
          <div className="grid gap-3 sm:grid-cols-2">
            <div>
              <label htmlFor={modelId} className="mb-1 block text-sm font-medium">
                Model
              </label>
              <select
                id={modelId}
                value={options.model ?? ''}
                disabled={disabled}
                onChange={(event) => onChange({ model: event.target.value || null })}
                className={inputClass}
              >
                <option value="">Default{defaultModel ? ` (${defaultModel})` : ''}</option>
                {(models ?? []).map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.id}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label htmlFor={languageId} className="mb-1 block text-sm font-medium">
                Language
              </label>
              <select
                id={languageId}
                value={options.language ?? ''}
                disabled={disabled}
                onChange={(event) => onChange({ language: event.target.value || null })}
                className={inputClass}
              >
                <option value="">Detect automatically</option>
                {LANGUAGES.map((code) => (
                  <option key={code} value={code}>
                    {languageName(code)} ({code})
                  </option>
                ))}
              </select>
            </div>
          </div>
          <div>
            <label htmlFor={promptId} className="mb-1 block text-sm font-medium">
              Vocabulary hint <span className="font-normal text-slate-500">(optional)</span>
            </label>
            <input
              id={promptId}
              value={options.prompt ?? ''}
              disabled={disabled}
              onChange={(event) => onChange({ prompt: event.target.value || null })}
              placeholder="Names and terms to spell right"
              className={inputClass}
            />
          </div>
        </Fieldset>

        <Fieldset legend="Insights">
          <Check
            label="Paragraphs"
            hint="Group sentences into paragraphs per speaker."
            checked={options.detectParagraphs}
            disabled={disabled}
            onChange={(detectParagraphs) => onChange({ detectParagraphs })}
          />
          <Check
            label="Entities"
            hint="Highlight people, places, organisations, dates."
            checked={options.detectEntities}
            disabled={disabled}
            onChange={(detectEntities) => onChange({ detectEntities })}
          />
          <Check
            label="Sentiment"
            hint="Score each paragraph positive, neutral or negative."
            checked={options.detectSentiment}
            disabled={disabled}
            onChange={(detectSentiment) => onChange({ detectSentiment })}
          />
        </Fieldset>

        <Fieldset legend="Text rules">
          {textRules === null ? (
            <p className="text-sm text-slate-600 dark:text-slate-400">Loading the server's rule sets…</p>
          ) : textRules.length === 0 ? (
            <p className="text-sm text-slate-600 dark:text-slate-400">
              This server has no text rule sets (its operator sets them in SCRIBE_TEXT_RULES_FILE).
            </p>
          ) : (
            textRules.map((rule) => (
              <Check
                key={rule.id}
                label={rule.id}
                checked={options.textRules.includes(rule.id)}
                disabled={disabled}
                onChange={(on) =>
                  onChange({ textRules: on ? [...options.textRules, rule.id] : options.textRules.filter((r) => r !== rule.id) })
                }
              />
            ))
          )}
        </Fieldset>
      </div>
    </div>
  );
}
