import { useCallback, useEffect, useState } from 'react';
import { type ViewWord, wordAt } from './transcript';

/**
 * Follows a media element: the word being spoken (checked every animation frame while playing,
 * and on every seek), whether it plays, and `seek(seconds)`.
 */
export function usePlayback(media: HTMLMediaElement | null, words: readonly ViewWord[]) {
  const [active, setActive] = useState(-1);
  const [playing, setPlaying] = useState(false);

  useEffect(() => {
    if (!media) return;
    let frame = 0;
    const update = (): void => setActive(wordAt(words, media.currentTime));
    const loop = (): void => {
      update();
      frame = requestAnimationFrame(loop);
    };
    const onPlay = (): void => {
      setPlaying(true);
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(loop);
    };
    const onStop = (): void => {
      setPlaying(false);
      cancelAnimationFrame(frame);
      update();
    };
    media.addEventListener('play', onPlay);
    media.addEventListener('pause', onStop);
    media.addEventListener('ended', onStop);
    media.addEventListener('seeked', update);
    media.addEventListener('timeupdate', update);
    update();
    if (!media.paused) onPlay();
    return () => {
      cancelAnimationFrame(frame);
      media.removeEventListener('play', onPlay);
      media.removeEventListener('pause', onStop);
      media.removeEventListener('ended', onStop);
      media.removeEventListener('seeked', update);
      media.removeEventListener('timeupdate', update);
    };
  }, [media, words]);

  const seek = useCallback(
    (seconds: number, play = false) => {
      if (!media) return;
      media.currentTime = Math.max(0, seconds);
      setActive(wordAt(words, seconds));
      if (play) void media.play().catch(() => undefined);
    },
    [media, words],
  );

  return { active, playing, seek };
}
