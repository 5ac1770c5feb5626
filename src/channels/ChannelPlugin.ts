import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import type { Translator } from '../engine/contracts';
import type { Engine } from '../engine/interpreter';
import type { FlowSet } from '../engine/loadFlows';
import type { ChannelName } from '../engine/types';
import type { Logger } from '../logger';
import type { Outbound, ChannelSender } from '../outbound/Outbound';
import type { EventPipeline } from '../pipeline/EventPipeline';
import type { SessionStore } from '../sessions/SessionStore';
import type { Database } from '../db/Database';
import type { PersonalData } from '../users/PersonalData';
import type { Reachability } from '../users/Reachability';
import type { ZaloReachApi } from '../broadcasts/zaloOutsideWindow';
import type { GroupEvents } from '../groups/GroupEvents';
import type { WebIdentity } from './web/webIdentity';
import type { PictureFiles } from '../guidance/GuidancePictures';

/** What a channel adapter gets to work with. */
export interface ChannelContext {
  config: Config;
  log: Logger;
  /** The project's texts (loaded and checked once at start-up). */
  i18n: Translator;
  /** The one Redis connection of the process (null without REDIS_URL: one process, state in memory). */
  redis: Redis | null;
  engine: Engine;
  pipeline: EventPipeline;
  store: SessionStore;
  reachability: Reachability;
  outbound: Outbound;
  /** Handlers of officials' group-chat events (reports inbox, broadcasts). */
  groups: GroupEvents;
  /** "Delete my data": every part that keeps personal data registers here. */
  personalData: PersonalData;
  /** The records database (durable state a channel must share across processes, such as OAuth tokens). */
  db?: Database;
  /** Where the project lives (static files). */
  projectRoot: string;
  /** How many announcements wait in a person's "new announcements" box (the web chat shows them on opening). */
  announcements?: { waiting(channel: ChannelName, userId: string): Promise<number> };
  /** The web chat's server-issued identity and its request limits. */
  webIdentity: WebIdentity;
  /** The flows (the web chat offers a photo upload at a photo step). */
  flows?: FlowSet;
  /** The main menu's flow id (the web chat folds the menu that follows an outcome behind one button). */
  menuFlow?: string;
  /** The guidance pictures' files, by the name in a `picture` reply (the web serves them, the others upload them). */
  pictures?: PictureFiles;
  /** Photos citizens sent that this server keeps (the web chat's), which the officials' Telegram group is sent. */
  citizenPhotos?: { file(ref: string): Promise<{ bytes: Buffer } | null> };
}

/**
 * One channel, as the runtime sees it: routes on the shared Express app (webhooks, the web chat), a sender for
 * messages outside a request, and start/stop hooks (register a webhook, poll for updates).
 */
export interface ChannelPlugin {
  readonly name: ChannelName;
  router?: Router;
  /**
   * Serves some requests on Node's `http` directly, before Express (a webhook's hot path): true when it took the
   * request, false (having touched nothing) to leave it to the Express app.
   */
  fastPath?: (req: IncomingMessage, res: ServerResponse) => boolean;
  sender?: ChannelSender;
  /** After the HTTP server listens. */
  start?(): Promise<void>;
  /** On shutdown, before in-flight events are drained. */
  stop?(): Promise<void>;
  /** Zalo: the OA calls that reach followers outside the 7-day window (template by phone, article broadcast). */
  zaloReach?: ZaloReachApi;
}
