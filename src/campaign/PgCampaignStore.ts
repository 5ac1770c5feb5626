import type { ChannelName } from '../engine/types';
import type { Database } from '../db/Database';
import type { CampaignStore, InstallReport } from './CampaignStore';

/** The campaign figures in the records database: they survive restarts and are shared by every process. */
export class PgCampaignStore implements CampaignStore {
  constructor(private readonly db: Database) {}

  async recordInstall(report: InstallReport): Promise<{ firstTime: boolean }> {
    // xmax = 0 only for a row this statement inserted (not one it updated): the person's first confirmation.
    const rows = await this.db.query<{ inserted: boolean }>(
      `INSERT INTO app_installs (channel, user_id, commune, confirmed_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (channel, user_id) DO UPDATE SET commune = EXCLUDED.commune
       RETURNING (xmax = 0) AS inserted`,
      [report.channel, report.userId, report.commune, new Date(report.at).toISOString()],
    );
    return { firstTime: rows[0]?.inserted === true };
  }

  async countInstalls(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ commune: string; n: number }>(
      `SELECT commune, sum(n)::int AS n FROM (
         SELECT commune, count(*)::int AS n FROM app_installs GROUP BY commune
         UNION ALL SELECT commune, n FROM app_installs_anonymous) t
       GROUP BY commune`,
    );
    return Object.fromEntries(rows.map((r) => [r.commune, Number(r.n)]));
  }

  async forget(channel: ChannelName, userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query<{ commune: string }>(`DELETE FROM app_installs WHERE channel = $1 AND user_id = $2 RETURNING commune`, [channel, userId]);
      if (rows[0]) {
        await tx.query(`INSERT INTO app_installs_anonymous (commune, n) VALUES ($1, 1) ON CONFLICT (commune) DO UPDATE SET n = app_installs_anonymous.n + 1`, [rows[0].commune]);
      }
    });
  }
}
