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
import { AdminAuth, AuditLog } from './AdminAuth';
import { createAdminRouter } from './adminRouter';

export interface AdminDeps {
  config: Pick<Config, 'publicUrl' | 'officialsTelegramChatId' | 'urgentAckReminderMinutes'>;
  db: Database;
  locality: Locality;
  i18n: Translator;
  records: RecordsService;
  broadcasts: BroadcastService;
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
  const audit = new AuditLog(deps.db, deps.clock);
  const reminders = new UrgentReminders(deps.records, deps.config.urgentAckReminderMinutes, deps.log, deps.onNoticeQueued, deps.clock);
  const formatTime = (d: Date) => deps.records.formatTime(d);
  return {
    router: createAdminRouter({ auth, audit, figures, inbox, broadcasts: deps.broadcasts, locality: deps.locality, i18n: deps.i18n, log: deps.log, clock: deps.clock, formatTime }),
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
