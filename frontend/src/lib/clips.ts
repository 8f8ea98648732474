/** Known-speaker voice clips: read as data URLs, with their duration when the browser can tell. */

export function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsDataURL(file);
  });
}

/** Seconds of audio in `url`, or null when the browser cannot tell (within 5 s). */
export function mediaDuration(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    if (typeof Audio === 'undefined') {
      resolve(null);
      return;
    }
    const audio = new Audio();
    const finish = (value: number | null): void => {
      clearTimeout(timer);
      audio.removeAttribute('src');
      resolve(value);
    };
    const timer = setTimeout(() => finish(null), 5000);
    audio.preload = 'metadata';
    audio.onloadedmetadata = () => finish(Number.isFinite(audio.duration) ? audio.duration : null);
    audio.onerror = () => finish(null);
    audio.src = url;
  });
}

/** Languages offered first (Whisper's best); any ISO-639-1 code works on the server. */
export const LANGUAGES = [
  'en', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'sv', 'da', 'no', 'fi', 'pl', 'cs', 'ru', 'uk', 'tr', 'el',
  'ro', 'hu', 'ar', 'he', 'hi', 'ja', 'ko', 'zh', 'vi', 'th', 'id', 'ms', 'ca',
];

export function languageName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}
