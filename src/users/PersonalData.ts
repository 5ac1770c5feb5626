import type { ChannelName } from '../engine/types';

/** Deletes what one part of the system keeps about a person (session, records, subscriptions, ...). */
export type PersonalDataEraser = (channel: ChannelName, userId: string) => Promise<void>;

/**
 * "Delete my data" (`xóa dữ liệu`, Zalo's `user_withdraw`): every part that keeps personal data registers an
 * eraser; `eraseUser` runs them all.
 */
export class PersonalData {
  private readonly erasers: Array<{ name: string; erase: PersonalDataEraser }> = [];

  register(name: string, erase: PersonalDataEraser): void {
    this.erasers.push({ name, erase });
  }

  /** Runs every eraser except those named in `keep` (the conversation erasing from inside keeps its session). */
  async eraseUser(channel: ChannelName, userId: string, options: { keep?: string[] } = {}): Promise<void> {
    for (const { name, erase } of this.erasers) if (!options.keep?.includes(name)) await erase(channel, userId);
  }
}
