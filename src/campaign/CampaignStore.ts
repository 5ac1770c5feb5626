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
  /**
   * The person asked for their data to be deleted: their id is dropped, their confirmation stays in the commune's
   * figure as an anonymous one (so a confirmation after that would be counted again).
   */
  forget(channel: ChannelName, userId: string): Promise<void>;
}

/** In-memory campaign store: one process, lost on restart. For the engine tests; the server counts in the database (PgCampaignStore). */
export class MemoryCampaignStore implements CampaignStore {
  /** `channel:userId` → commune of the latest confirmation. */
  private readonly installs = new Map<string, string>();
  /** Commune id → confirmations of people who asked to be forgotten. */
  private readonly anonymous = new Map<string, number>();

  async recordInstall(report: InstallReport): Promise<{ firstTime: boolean }> {
    const key = `${report.channel}:${report.userId}`;
    const firstTime = !this.installs.has(key);
    this.installs.set(key, report.commune);
    return { firstTime };
  }

  async countInstalls(): Promise<Record<string, number>> {
    const counts: Record<string, number> = Object.fromEntries(this.anonymous);
    for (const commune of this.installs.values()) counts[commune] = (counts[commune] ?? 0) + 1;
    return counts;
  }

  async forget(channel: ChannelName, userId: string): Promise<void> {
    const key = `${channel}:${userId}`;
    const commune = this.installs.get(key);
    if (commune === undefined) return;
    this.installs.delete(key);
    this.anonymous.set(commune, (this.anonymous.get(commune) ?? 0) + 1);
  }
}
