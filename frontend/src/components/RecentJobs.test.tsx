import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { JobSummary } from '../jobs/store';
import { RecentJobs } from './RecentJobs';

function job(id: string, patch: Partial<JobSummary> = {}): JobSummary {
  return { id, fileName: `${id}.wav`, fileType: 'audio/wav', fileSize: 1, createdAt: Date.now(), status: 'completed', duration: 75, speakerCount: 2, error: null, source: 'server', hasAudio: false, ...patch };
}

describe('RecentJobs', () => {
  it('opens finished and running jobs, shows why one failed, and deletes', async () => {
    const onOpen = vi.fn();
    const onDelete = vi.fn();
    const user = userEvent.setup();
    render(
      <RecentJobs
        jobs={[
          job('running', { status: 'in_progress', duration: null, speakerCount: null }),
          job('done'),
          job('broken', { status: 'failed', error: 'The upload is not audio.', duration: null, speakerCount: null }),
          job('stopped', { status: 'cancelled', duration: null, speakerCount: null }),
        ]}
        activeId="done"
        notice="Showing this browser's transcripts only: the server is busy."
        onOpen={onOpen}
        onDelete={onDelete}
        onNew={() => undefined}
      />,
    );
    expect(screen.getByText(/Showing this browser's transcripts only/)).toBeInTheDocument();
    const running = screen.getByRole('button', { name: /^running\.wav/ });
    expect(running).toHaveTextContent('Running');
    await user.click(running);
    expect(onOpen).toHaveBeenCalledWith('running');
    const done = screen.getByRole('button', { name: /^done\.wav/ });
    expect(done).toHaveAttribute('aria-current', 'true');
    expect(done).toHaveTextContent('1:15 · 2 speakers');
    const broken = screen.getByRole('button', { name: /^broken\.wav/ });
    expect(broken).toBeDisabled();
    expect(broken).toHaveTextContent('Failed');
    expect(broken).toHaveTextContent('The upload is not audio.');
    expect(screen.getByRole('button', { name: /^stopped\.wav/ })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Delete broken.wav' }));
    expect(onDelete).toHaveBeenCalledWith('broken');
  });
});
