import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { keyStore } from '../auth/keyStore';
import { KeyLock } from './KeyLock';

describe('KeyLock', () => {
  beforeEach(() => {
    localStorage.clear();
    keyStore.reset();
  });

  it('saves a key once, kept in the browser', async () => {
    const user = userEvent.setup();
    render(<KeyLock />);
    await user.click(screen.getByRole('button', { name: 'API key' }));
    const dialog = screen.getByRole('dialog', { name: 'API key' });
    expect(dialog).toBeVisible();
    await user.type(screen.getByLabelText('Key'), 'sk-live-42');
    await user.click(screen.getByRole('button', { name: 'Save key' }));
    expect(localStorage.getItem('scribe.apiKey')).toBe('sk-live-42');
    expect(screen.getByRole('button', { name: 'Key set' })).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('opens by itself with the server message after a 401', async () => {
    render(<KeyLock />);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    act(() => keyStore.requireKey('Incorrect API key provided.'));
    expect(screen.getByRole('dialog', { name: 'API key' })).toBeVisible();
    expect(screen.getByRole('alert')).toHaveTextContent('Incorrect API key provided.');
    expect(screen.getByLabelText('Key')).toHaveFocus();
  });

  it('removes a saved key', async () => {
    keyStore.setKey('sk-old');
    const user = userEvent.setup();
    render(<KeyLock />);
    await user.click(screen.getByRole('button', { name: 'Key set' }));
    await user.click(screen.getByRole('button', { name: 'Remove key' }));
    expect(localStorage.getItem('scribe.apiKey')).toBeNull();
    expect(screen.getByRole('button', { name: 'API key' })).toBeInTheDocument();
  });
});
