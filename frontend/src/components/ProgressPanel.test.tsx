import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ProgressPanel } from './ProgressPanel';

describe('ProgressPanel', () => {
  const base = { fileName: 'call.wav', startedAt: Date.now(), partial: [], onCancel: () => undefined };

  it('shows the upload in bytes, then the server stage with its percent', () => {
    const { rerender } = render(<ProgressPanel {...base} progress={{ stage: 'uploading', fraction: 0.5, loaded: 512 * 1024, total: 1024 * 1024 }} />);
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Uploading · 50%');
    expect(screen.getByText(/512 KB of 1(\.0)? MB/)).toBeInTheDocument();
    rerender(<ProgressPanel {...base} progress={{ stage: 'queued', fraction: null }} />);
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Waiting for a free worker');
    expect(screen.getByRole('progressbar')).not.toHaveAttribute('aria-valuenow');
    rerender(<ProgressPanel {...base} progress={{ stage: 'attributing', fraction: 0.84 }} partial={[{ start: 65, end: 70, text: 'So, the budget.' }]} />);
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Matching words to speakers · 84%');
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '84');
    expect(screen.getByTestId('partial-segment')).toHaveTextContent('1:05So, the budget.');
  });

  it('says when it is reconnecting and when a cancel is on its way', () => {
    render(<ProgressPanel {...base} progress={{ stage: 'transcribing', fraction: 0.2 }} reconnecting cancelling />);
    expect(screen.getByTestId('reconnecting')).toHaveTextContent('reconnecting');
    expect(screen.getByRole('button', { name: 'Cancelling…' })).toBeDisabled();
  });
});
