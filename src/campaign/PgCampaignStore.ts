import type { ChannelName } from '../engine/types';
import type { Database } from '../db/Database';
import type { CampaignMark, CampaignProfile, CampaignStore, InstallReport, OfficialUnit } from './CampaignStore';

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

  async profile(channel: ChannelName, userId: string): Promise<CampaignProfile> {
    const rows = await this.db.query<{ official_unit: string | null; declared: boolean | null }>(
      `SELECT official_unit, declared FROM campaign_people WHERE channel = $1 AND user_id = $2`,
      [channel, userId],
    );
    return { officialAsked: rows[0]?.official_unit != null, declaredAsked: rows[0]?.declared != null };
  }

  async markOfficial(mark: CampaignMark & { unit: OfficialUnit }): Promise<void> {
    await this.db.query(
      `INSERT INTO campaign_people (channel, user_id, commune, official_unit, official_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (channel, user_id) DO UPDATE SET commune = EXCLUDED.commune, official_unit = EXCLUDED.official_unit, official_at = EXCLUDED.official_at`,
      [mark.channel, mark.userId, mark.commune, mark.unit, new Date(mark.at).toISOString()],
    );
  }

  async markDeclared(mark: CampaignMark & { declared: boolean }): Promise<void> {
    await this.db.query(
      `INSERT INTO campaign_people (channel, user_id, commune, declared, declared_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (channel, user_id) DO UPDATE SET commune = EXCLUDED.commune, declared = EXCLUDED.declared, declared_at = EXCLUDED.declared_at`,
      [mark.channel, mark.userId, mark.commune, mark.declared, new Date(mark.at).toISOString()],
    );
  }

  async forget(channel: ChannelName, userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      // The person's marks become numbers (like their install below), so the campaign figures do not drop.
      const people = await tx.query<{ commune: string; official_unit: string | null; declared: boolean | null }>(
        `DELETE FROM campaign_people WHERE channel = $1 AND user_id = $2 RETURNING commune, official_unit, declared`,
        [channel, userId],
      );
      const person = people[0];
      if (person) {
        const installed = (await tx.query(`SELECT 1 FROM app_installs WHERE channel = $1 AND user_id = $2`, [channel, userId])).length > 0;
        const marks: Array<[string, string]> = [];
        if (person.official_unit?.includes(':')) {
          marks.push([person.official_unit, 'official']);
          if (installed) marks.push([person.official_unit, 'official_installed']);
        }
        if (person.declared === true) marks.push([`commune:${person.commune}`, 'declared']);
        for (const [unit, kind] of marks) {
          await tx.query(
            `INSERT INTO campaign_people_anonymous (unit, mark, n) VALUES ($1, $2, 1) ON CONFLICT (unit, mark) DO UPDATE SET n = campaign_people_anonymous.n + 1`,
            [unit, kind],
          );
        }
      }
      const rows = await tx.query<{ commune: string }>(`DELETE FROM app_installs WHERE channel = $1 AND user_id = $2 RETURNING commune`, [channel, userId]);
      if (rows[0]) {
        await tx.query(`INSERT INTO app_installs_anonymous (commune, n) VALUES ($1, 1) ON CONFLICT (commune) DO UPDATE SET n = app_installs_anonymous.n + 1`, [rows[0].commune]);
      }
    });
  }
}
