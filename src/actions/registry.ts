import type { Action, EngineRegistry } from '../engine/interpreter';
import type { ChannelName } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import { VALIDATORS } from '../validators';
import { createListContacts } from './contacts';

/** Everything flows may name: validators, actions, option lists and the variables every text can use. */
/**
 * `canPush(channel)`: whether that channel can message people outside a conversation (Telegram and Zalo when
 * configured; never the web chat). Flows use it to offer announcements and reminders only where they can arrive.
 */
export function createRegistry(locality: Locality, moreActions: Record<string, Action> = {}, canPush: (channel: ChannelName) => boolean = () => false): EngineRegistry {
  return {
    validators: VALIDATORS,
    actions: {
      listContacts: createListContacts(locality),
      canPush: async ({ channel }) => ({ ok: true, output: { canPush: canPush(channel) } }),
      ...moreActions,
    },
    optionSources: {
      communes: () => locality.communes.map((c) => ({ id: c.id, label: c.name, synonyms: c.aliases })),
    },
    textVars: (profile, locale) => {
      const commune = locality.communes.find((c) => c.id === profile.commune);
      return {
        commune: commune?.name ?? '',
        district: locality.district[locale],
        province: locality.province[locale],
        reminderHour: String(locality.records.dailyReminderHour),
        quarantineDays: String(locality.records.quarantineDays),
      };
    },
  };
}
