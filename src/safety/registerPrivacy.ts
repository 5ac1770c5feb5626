import type { CampaignStore } from '../campaign/CampaignStore';
import type { ChannelName } from '../engine/types';
import type { Locality } from '../locality/localitySchema';
import type { Database } from '../db/Database';
import type { RecordsRepository } from '../records/RecordsRepository';
import type { RecordsService } from '../records/RecordsService';
import type { SessionStore } from '../sessions/SessionStore';
import type { PersonalData } from '../users/PersonalData';
import type { Reachability } from '../users/Reachability';

export interface PrivacyParts {
  personalData: PersonalData;
  db: Database;
  repo: RecordsRepository;
  records: RecordsService;
  store: SessionStore;
  reachability: Reachability;
  campaign: CampaignStore;
  locality: Locality;
  /** The session key of a person (`channel:userId`). */
  sessionKey: (channel: ChannelName, userId: string) => string;
}

const DAY_MS = 86_400_000;

/**
 * Registers what "delete my data" erases and what retention removes, part by part, naming the tables each covers
 * (a test checks that every table with a personal column is covered by both). Rows that are not records (broadcast
 * deliveries, ended subscriptions, sent messages, campaign marks) are kept as long as the longest record retention.
 */
export function registerPrivacy(p: PrivacyParts): void {
  const { personalData, db, repo, records, locality } = p;
  const keepDays = Math.max(...Object.values(locality.records.retentionDays));
  const cutoff = (now: Date) => new Date(now.getTime() - keepDays * DAY_MS).toISOString();
  const count = async (sql: string, params: unknown[]) => (await db.query(`${sql} RETURNING 1`, params)).length;

  personalData.register('sessions', async (channel, userId) => p.store.forget(p.sessionKey(channel, userId)));
  personalData.register(
    'records',
    async (channel, userId) => {
      await repo.eraseUser(channel, records.idsOf(channel, userId), records.officialsText('officials.redacted'));
    },
    { tables: ['records', 'record_status_changes', 'notices', 'quarantine_enrolments', 'daily_updates'] },
  );
  personalData.register('broadcast-deliveries', async (channel, userId) => void (await db.query(`DELETE FROM deliveries WHERE channel = $1 AND user_id = $2`, [channel, userId])), {
    tables: ['deliveries'],
  });
  personalData.register('subscriptions', async (channel, userId) => void (await db.query(`DELETE FROM subscriptions WHERE channel = $1 AND user_id = $2`, [channel, userId])), {
    tables: ['subscriptions'],
  });
  personalData.register('campaign', async (channel, userId) => p.campaign.forget(channel, userId), { tables: ['app_installs', 'campaign_people'] });
  // Filled only when Zalo is on; the table exists in every deployment.
  personalData.register('zalo-shared-phone', async (channel, userId) => void (channel === 'zalo' ? await db.query(`DELETE FROM zalo_shared_phones WHERE user_id = $1`, [userId]) : undefined), {
    tables: ['zalo_shared_phones'],
  });
  personalData.register('reachability', async (channel, userId) => p.reachability.markReachable(channel, userId));

  personalData.registerRetention('records', async (now) => repo.purgeExpired(now), { tables: ['records', 'record_status_changes', 'quarantine_enrolments', 'daily_updates'] });
  // Sent or abandoned messages (alerts, digests, status updates of deleted records) after the longest retention.
  personalData.registerRetention('notices', async (now) => count(`DELETE FROM notices WHERE created_at < $1 AND (sent_at IS NOT NULL OR gave_up_at IS NOT NULL) AND redact_text IS NULL`, [cutoff(now)]), {
    tables: ['notices'],
  });
  personalData.registerRetention('broadcast-deliveries', async (now) => count(`DELETE FROM deliveries WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE created_at < $1)`, [cutoff(now)]), {
    tables: ['deliveries'],
  });
  personalData.registerRetention('subscriptions', async (now) => count(`DELETE FROM subscriptions WHERE NOT active AND updated_at < $1`, [cutoff(now)]), { tables: ['subscriptions'] });
  // A person's campaign marks older than that are kept only as numbers (the figures do not change): the same
  // anonymisation as "delete my data", person by person.
  personalData.registerRetention(
    'campaign',
    async (now) => {
      const old = await db.query<{ channel: ChannelName; user_id: string }>(
        `SELECT channel, user_id FROM app_installs WHERE confirmed_at < $1
         UNION SELECT channel, user_id FROM campaign_people WHERE COALESCE(GREATEST(official_at, declared_at), official_at, declared_at) < $1`,
        [cutoff(now)],
      );
      for (const person of old) await p.campaign.forget(person.channel, person.user_id);
      return old.length;
    },
    { tables: ['app_installs', 'campaign_people'] },
  );
}
