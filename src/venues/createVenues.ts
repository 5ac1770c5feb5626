import type { Router } from 'express';
import type { FigureProvider } from '../campaign/CampaignFigures';
import type { GroupEventHandler } from '../groups/GroupEvents';
import type { Database } from '../db/Database';
import type { PersonalData } from '../users/PersonalData';
import { createVenueApi, createVenuePublicRouter } from './venueApi';
import { createVenueFigureProvider } from './venueFigureProvider';
import { createVenueGroupHandler } from './venueGroupHandler';
import { VenueRepository } from './VenueRepository';
import { VenueService, type VenueServiceDeps } from './VenueService';

export interface Venues {
  service: VenueService;
  /** The check-in page, the posters and `/api/venues`. */
  routers: Router[];
  /** Buttons and `/diadiem` in officials' groups. */
  groupHandler: GroupEventHandler;
  /** Venues listed and registered per commune and kind, for the campaign figures and report. */
  figureProvider: FigureProvider;
}

/** The service's needs, built here from the database, plus what the routes and "delete my data" need. */
export type VenuesDeps = Omit<VenueServiceDeps, 'repo'> & {
  db: Database;
  personalData: PersonalData;
  adminToken: string | undefined;
};

/** Builds the venues part: its service, routes and group handler; registers its share of "delete my data". */
export function createVenues(deps: VenuesDeps): Venues {
  const repo = new VenueRepository(deps.db);
  const service = new VenueService({ ...deps, repo });
  deps.personalData.register('venues', async (channel, userId) => repo.eraseUser(channel, userId), { tables: ['venues', 'venue_checkins', 'venue_visitors'] });
  // A refused registration keeps no owner: its name and phone are cleared after the check-in retention.
  deps.personalData.registerRetention(
    'rejected-venue-owners',
    async (now) =>
      (
        await deps.db.query(
          `UPDATE venues SET owner_name = NULL, owner_phone = NULL, owner_channel = NULL, owner_user_id = NULL, owner_locale = NULL
            WHERE status = 'rejected' AND owner_user_id IS NOT NULL AND updated_at < $1 RETURNING 1`,
          [new Date(now.getTime() - deps.locality.venues.checkinRetentionDays * 86_400_000).toISOString()],
        )
      ).length,
    { tables: ['venues'] },
  );
  if (!deps.publicUrl) deps.log.warn('PUBLIC_URL is not set: venue posters and QR codes carry links relative to this server, and Telegram and Zalo cannot fetch the poster. Set PUBLIC_URL before printing posters.');
  return {
    service,
    routers: [createVenuePublicRouter(service, deps.i18n), createVenueApi(service, deps.adminToken, deps.locality)],
    groupHandler: createVenueGroupHandler(service, deps.locality, deps.districtChatId),
    figureProvider: createVenueFigureProvider(repo, deps.i18n),
  };
}
