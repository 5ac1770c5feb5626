import type { ChannelName } from '../engine/types';
import { cleanText } from '../safety/cleanText';

/** Deletes what one part of the system keeps about a person (session, records, subscriptions, ...). */
export type PersonalDataEraser = (channel: ChannelName, userId: string) => Promise<void>;

/** Deletes what is past its retention period; returns how many rows (or keys) went. */
export type RetentionRule = (now: Date) => Promise<number>;

export interface CoverageOptions {
  /** Database tables whose rows about the person this eraser (or rule) deletes, cascades included. */
  tables?: string[];
}

/**
 * "Delete my data" (`xóa dữ liệu`, Zalo's `user_withdraw`) and retention: every part that keeps personal data
 * registers an eraser and a retention rule, naming the tables they cover; `eraseUser` runs every eraser,
 * `purgeExpired` every rule. A test reads the database schema and fails when a table with a personal column is
 * covered by no eraser or no rule.
 */
export class PersonalData {
  private readonly erasers: Array<{ name: string; erase: PersonalDataEraser; tables: string[] }> = [];
  private readonly rules: Array<{ name: string; purge: RetentionRule; tables: string[] }> = [];

  register(name: string, erase: PersonalDataEraser, options: CoverageOptions = {}): void {
    this.erasers.push({ name, erase, tables: options.tables ?? [] });
  }

  registerRetention(name: string, purge: RetentionRule, options: CoverageOptions = {}): void {
    this.rules.push({ name, purge, tables: options.tables ?? [] });
  }

  /** Runs every eraser except those named in `keep` (the conversation erasing from inside keeps its session). */
  async eraseUser(channel: ChannelName, rawUserId: string, options: { keep?: string[] } = {}): Promise<void> {
    // An id with characters no stored id can hold (a NUL from a forged event) would fail the database: nothing to erase.
    const userId = cleanText(rawUserId);
    if (userId !== rawUserId || userId === '') return;
    for (const { name, erase } of this.erasers) if (!options.keep?.includes(name)) await erase(channel, userId);
  }

  /** Runs every retention rule; returns the rows deleted per rule. */
  async purgeExpired(now: Date): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const { name, purge } of this.rules) deleted[name] = await purge(now);
    return deleted;
  }

  /** The tables some eraser covers, and those some retention rule covers. */
  coverage(): { erased: Set<string>; retained: Set<string> } {
    return { erased: new Set(this.erasers.flatMap((e) => e.tables)), retained: new Set(this.rules.flatMap((r) => r.tables)) };
  }
}
