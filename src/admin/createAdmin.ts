import type { Router } from 'express';
import type { BroadcastService } from '../broadcasts/BroadcastService';
import { CampaignFigures, type FigureProvider } from '../campaign/CampaignFigures';
import type { GroupEventHandler } from '../groups/GroupEvents';
import type { Config } from '../config';
import type { Translator } from '../engine/contracts';
import type { Locality } from '../locality/localitySchema';
import type { Logger } from '../logger';
import type { Outbound } from '../outbound/Outbound';
import type { Database } from '../db/Database';
import { InboxService, UrgentReminders } from '../records/InboxService';
import type { RecordsService } from '../records/RecordsService';
import { createAdminGroupCommands } from './adminGroupCommands';
import type { VenueService } from '../venues/VenueService';
import { AdminAuth, type AuditLog } from './AdminAuth';
import { createAdminRouter } from './adminRouter';

export interface AdminDeps {
  config: Pick<Config, 'publicUrl' | 'officialsTelegramChatId' | 'urgentAckReminderMinutes'>;
  db: Database;
  locality: Locality;
  i18n: Translator;
  records: RecordsService;
  broadcasts: BroadcastService;
  /** Venues: the dashboard's list, decisions, field additions and tracing call this service. */
  venues: VenueService;
  /** The one audit log, shared with the parts that write to it outside the dashboard (venues). */
  audit: AuditLog;
  outbound: Outbound;
  log: Logger;
  clock: () => number;
  onNoticeQueued: () => void;
  /** More campaign figures per commune (e.g. venues), added to the table and the report. */
  figureProviders?: FigureProvider[];
}

/** The officials' side in one piece: the `/admin` pages, the group commands, the services they share, the reminders. */
export interface Admin {
  router: Router;
  groupHandler: GroupEventHandler;
  figures: CampaignFigures;
  inbox: InboxService;
  auth: AdminAuth;
  audit: AuditLog;
  reminders: UrgentReminders;
  start(): void;
  stop(): Promise<void>;
}

export function createAdmin(deps: AdminDeps): Admin {
  const figures = new CampaignFigures(deps.db, deps.locality, deps.figureProviders);
  const inbox = new InboxService(deps.records, deps.locality, deps.log, deps.onNoticeQueued, deps.clock);
  const auth = new AdminAuth(deps.db, deps.clock);
  const audit = deps.audit;
  const reminders = new UrgentReminders(deps.records, deps.config.urgentAckReminderMinutes, deps.log, deps.onNoticeQueued, deps.clock);
  const formatTime = (d: Date) => deps.records.formatTime(d);
  return {
    router: createAdminRouter({ auth, audit, figures, inbox, broadcasts: deps.broadcasts, venues: deps.venues, locality: deps.locality, i18n: deps.i18n, log: deps.log, clock: deps.clock, formatTime }),
    groupHandler: createAdminGroupCommands({
      auth,
      figures,
      inbox,
      outbound: deps.outbound,
      locality: deps.locality,
      i18n: deps.i18n,
      log: deps.log,
      districtChatId: deps.config.officialsTelegramChatId ?? null,
      publicUrl: deps.config.publicUrl ?? null,
      formatTime,
      clock: deps.clock,
    }),
    figures,
    inbox,
    auth,
    audit,
    reminders,
    start: () => reminders.start(),
    stop: () => reminders.stop(),
  };
}
