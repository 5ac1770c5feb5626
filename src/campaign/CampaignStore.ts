import type { ChannelName } from '../engine/types';

/** One person saying "I have installed the app". */
export interface InstallReport {
  channel: ChannelName;
  /** The platform's id of the person; with `channel` it identifies them. */
  userId: string;
  /** Commune id from the locality file (the person's commune when they confirmed). */
  commune: string;
  /** The event that carried the confirmation (idempotency key for redeliveries). */
  eventId: string;
  /** When it was confirmed (ms since epoch). */
  at: number;
}

/**
 * The campaign figures the district reports up the chain: how many people confirmed installing the contact-tracing
 * app, per commune. A person is counted once: confirming again (or a redelivered event) changes nothing, except that
 * a person who moved to another commune is counted in the commune of their latest confirmation.
 */
export interface CampaignStore {
  /** Records the confirmation; `firstTime` is false when this person had already confirmed. */
  recordInstall(report: InstallReport): Promise<{ firstTime: boolean }>;
  /** Number of distinct people who confirmed, per commune id (communes with nobody are absent). */
  countInstalls(): Promise<Record<string, number>>;
}

/** In-memory campaign store: one process, lost on restart. The default until the records database is wired in. */
export class MemoryCampaignStore implements CampaignStore {
  /** `channel:userId` → commune of the latest confirmation. */
  private readonly installs = new Map<string, string>();

  async recordInstall(report: InstallReport): Promise<{ firstTime: boolean }> {
    const key = `${report.channel}:${report.userId}`;
    const firstTime = !this.installs.has(key);
    this.installs.set(key, report.commune);
    return { firstTime };
  }

  async countInstalls(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const commune of this.installs.values()) counts[commune] = (counts[commune] ?? 0) + 1;
    return counts;
  }
}
