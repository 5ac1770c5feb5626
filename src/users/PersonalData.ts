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

  async eraseUser(channel: ChannelName, userId: string): Promise<void> {
    for (const { erase } of this.erasers) await erase(channel, userId);
  }
}
