import { memo, type MouseEvent } from 'react';
import type { Entity } from '../api/client';
import { colorOf, displayName, speakerStyle, type SpeakerNames } from '../lib/speakers';
import { clock } from '../lib/time';
import type { Block, TranscriptModel } from '../lib/transcript';
import { cx, focusRing } from './ui';

const ENTITY_STYLE: Record<string, string> = {
  PERSON: 'decoration-sky-500',
  ORG: 'decoration-violet-500',
  GPE: 'decoration-emerald-500',
  LOC: 'decoration-emerald-500',
  DATE: 'decoration-amber-500',
  TIME: 'decoration-amber-500',
  MONEY: 'decoration-rose-500',
};

/** spaCy's entity labels in plain words. */
export const ENTITY_NAMES: Record<string, string> = {
  PERSON: 'People',
  NORP: 'Groups',
  FAC: 'Buildings',
  ORG: 'Organisations',
  GPE: 'Places',
  LOC: 'Locations',
  PRODUCT: 'Products',
  EVENT: 'Events',
  WORK_OF_ART: 'Works',
  LAW: 'Laws',
  LANGUAGE: 'Languages',
  DATE: 'Dates',
  TIME: 'Times',
  PERCENT: 'Percentages',
  MONEY: 'Money',
  QUANTITY: 'Quantities',
  ORDINAL: 'Ordinals',
  CARDINAL: 'Numbers',
};

export function entityName(label: string): string {
  return ENTITY_NAMES[label] ?? label;
}

export function entityClass(entity: Entity): string {
  return cx('underline decoration-2 underline-offset-4', ENTITY_STYLE[entity.label] ?? 'decoration-slate-400');
}

export function SentimentBadge({ label, score }: { label: string; score: number }) {
  const tone =
    label === 'positive'
      ? 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900/50 dark:text-emerald-200'
      : label === 'negative'
        ? 'bg-rose-100 text-rose-900 dark:bg-rose-900/50 dark:text-rose-200'
        : 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300';
  return (
    <span className={cx('inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium', tone)} title={`Sentiment score ${score.toFixed(2)}`}>
      <span className="sr-only">Sentiment: </span>
      {label.charAt(0).toUpperCase() + label.slice(1)}
    </span>
  );
}

interface BlockProps {
  block: Block;
  order: string[];
  name: string;
  /** The word being spoken, when it is in this block; else -1. */
  active: number;
  matches: ReadonlySet<number> | undefined;
  current: ReadonlySet<number> | undefined;
  showSentiment: boolean;
  onPlayFrom: (seconds: number) => void;
}

const BlockView = memo(function BlockView({ block, order, name, active, matches, current, showSentiment, onPlayFrom }: BlockProps) {
  return (
    <div
      id={`block-${block.index}`}
      className={cx('spk-border scroll-mt-40 border-l-4 pl-3 sm:pl-4', block.newTurn ? 'mt-5 first:mt-0' : 'mt-2')}
      style={speakerStyle(colorOf(block.speaker, order))}
      data-testid="transcript-block"
    >
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        {(block.newTurn || block.speaker !== null) && (
          <span className={cx('spk-text font-semibold', !block.newTurn && 'sr-only')} data-testid="block-speaker">
            {name}
          </span>
        )}
        <button
          type="button"
          onClick={() => onPlayFrom(block.start)}
          className={cx('rounded text-xs text-slate-500 tabular-nums hover:text-indigo-700 hover:underline dark:text-slate-400 dark:hover:text-indigo-300', focusRing)}
          aria-label={`Play from ${clock(block.start)}`}
          data-testid="segment-seek"
        >
          {clock(block.start)}
        </button>
        {showSentiment && block.sentiment && <SentimentBadge label={block.sentiment.label} score={block.sentiment.score} />}
      </div>
      <p className="mt-0.5 text-[1.0625rem] leading-8">
        {block.words.map((word) => {
          const isActive = word.index === active;
          const isCurrent = current?.has(word.index);
          const isMatch = matches?.has(word.index);
          return (
            <span key={word.index}>
              <span
                data-start={word.start}
                data-word={word.index}
                data-match={isCurrent ? 'current' : isMatch ? 'match' : undefined}
                title={word.entity ? `${entityName(word.entity.label)}: ${word.entity.text}` : undefined}
                className={cx(
                  'cursor-pointer rounded-sm px-px',
                  word.entity && entityClass(word.entity),
                  isCurrent
                    ? 'bg-orange-400 text-slate-950 ring-2 ring-orange-500'
                    : isMatch
                      ? 'bg-amber-200 text-slate-950 dark:bg-amber-400/80'
                      : isActive
                        ? 'bg-indigo-200 text-slate-950 dark:bg-indigo-400/70 dark:text-white'
                        : 'hover:bg-slate-200 dark:hover:bg-slate-700',
                )}
                aria-current={isActive ? 'true' : undefined}
              >
                {word.text}
              </span>{' '}
            </span>
          );
        })}
      </p>
    </div>
  );
});

/** The transcript: blocks coloured by speaker; click a word to seek, a time to play from there. */
export function TranscriptText({
  model,
  names,
  active,
  matchesByBlock,
  current,
  onSeek,
  onPlayFrom,
}: {
  model: TranscriptModel;
  names: SpeakerNames;
  active: number;
  matchesByBlock: Map<number, Set<number>>;
  current: { block: number; words: Set<number> } | null;
  onSeek: (seconds: number) => void;
  onPlayFrom: (seconds: number) => void;
}) {
  const activeBlock = active >= 0 ? (model.words[active]?.block ?? -1) : -1;
  const onClick = (event: MouseEvent): void => {
    const target = (event.target as HTMLElement).closest<HTMLElement>('[data-start]');
    if (target?.dataset.start) onSeek(Number(target.dataset.start));
  };
  const showSentiment = model.blocks.some((b) => b.sentiment);
  if (model.blocks.length === 0) {
    return <p className="text-slate-600 dark:text-slate-400">No speech was found in this recording.</p>;
  }
  return (
    // Clicking a word is a pointer shortcut; keyboard users seek with each block's time button.
    <div onClick={onClick} data-testid="transcript">
      {model.blocks.map((block) => (
        <BlockView
          key={block.index}
          block={block}
          order={model.speakers}
          name={displayName(block.speaker, names)}
          active={block.index === activeBlock ? active : -1}
          matches={matchesByBlock.get(block.index)}
          current={current?.block === block.index ? current.words : undefined}
          showSentiment={showSentiment}
          onPlayFrom={onPlayFrom}
        />
      ))}
    </div>
  );
}
