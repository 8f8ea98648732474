import { useEffect, useState, useSyncExternalStore } from 'react';
import { keyStore } from '../auth/keyStore';
import { listModels, listTextRules, type ModelOut, type TextRuleSet } from './client';
import { type ApiError, toApiError } from './errors';

export interface ServerInfo {
  models: ModelOut[] | null;
  textRules: TextRuleSet[] | null;
  error: ApiError | null;
}

/** What the server offers (models, text rule sets); asked again when the key changes. */
export function useServerInfo(): ServerInfo {
  const key = useSyncExternalStore(keyStore.subscribe, keyStore.getKey);
  const [info, setInfo] = useState<ServerInfo>({ models: null, textRules: null, error: null });
  useEffect(() => {
    const controller = new AbortController();
    Promise.all([listModels(controller.signal), listTextRules(controller.signal).catch(() => [] as TextRuleSet[])])
      .then(([models, textRules]) => setInfo({ models, textRules, error: null }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setInfo((current) => ({ ...current, error: toApiError(error) }));
      });
    return () => controller.abort();
  }, [key]);
  return info;
}
