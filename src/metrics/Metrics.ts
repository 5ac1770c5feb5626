import diagnostics from 'node:diagnostics_channel';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withTimeout } from '../http/createApp';
import type { Queryable } from '../db/Database';
import { OUTBOUND_DIAGNOSTICS_CHANNEL, type OutboundAttempt } from './outboundEvents';

/** What happened to one update in the pipeline. */
export type UpdateOutcome = 'handled' | 'duplicate' | 'error';

/** A dependency the server needs (Redis, the database): `check` resolves when it answers. */
export interface DependencyCheck {
  name: string;
  check: () => Promise<void>;
}

/** The Zalo token pair's dates, as stored (null when only the environment's pair is known). */
export interface TokenDates {
  obtainedAt: number;
  expiresAt: number | null;
}

export interface MetricsSources {
  /** The records database: notices pending, broadcast progress (read when scraped). */
  db?: Queryable;
  /** The stored Zalo token pair (read when scraped); absent when the Zalo channel is off. */
  zaloTokens?: () => Promise<TokenDates | null>;
}

const PREFIX = 'cgb_';
/** A scrape must answer even when a dependency hangs. */
const COLLECT_TIMEOUT_MS = 2_000;

/**
 * The server's Prometheus metrics, one registry per runtime (built by the composition root and handed to the
 * parts that report). Counters are per process; the gauges read from the database or Redis at scrape time are
 * the same on every process (aggregate them with `max`, not `sum`). Platform API attempts are heard on a diagnostics
 * channel, so a registry counts those of the whole process (one runtime per process, except in tests).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly updates: Counter<'channel' | 'kind' | 'outcome'>;
  private readonly pipelineSeconds: Histogram<'channel'>;
  private readonly outboundAttempts: Counter<'channel' | 'method' | 'status'>;
  private readonly outboundRetries: Counter<'channel' | 'method'>;
  private readonly broadcastSends: Counter<'channel' | 'status'>;
  private readonly dependencyUp: Gauge<'dependency'>;
  private readonly dependencyFailures: Counter<'dependency'>;
  private readonly dependencyOutages: Counter<'dependency'>;
  private readonly lastState = new Map<string, boolean>();
  private dependencies: DependencyCheck[] = [];
  private sources: MetricsSources = {};
  private readonly onOutbound = (message: unknown) => this.countOutbound(message as OutboundAttempt);

  constructor(private readonly clock: () => number = Date.now) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX, eventLoopMonitoringPrecision: 20 });
    this.updates = new Counter({ name: `${PREFIX}updates_total`, help: 'Inbound updates by channel, event kind and outcome (handled, duplicate, error)', labelNames: ['channel', 'kind', 'outcome'], registers });
    this.pipelineSeconds = new Histogram({
      name: `${PREFIX}pipeline_seconds`,
      help: 'Time from an update entering the pipeline to its commit and replies, by channel',
      labelNames: ['channel'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.outboundAttempts = new Counter({
      name: `${PREFIX}outbound_attempts_total`,
      help: 'Calls to a platform API, one per attempt, by channel, method and status (ok, the platform error code such as 429 or -32, network)',
      labelNames: ['channel', 'method', 'status'],
      registers,
    });
    this.outboundRetries = new Counter({ name: `${PREFIX}outbound_retries_total`, help: 'Attempts that repeat a failed platform call (after 429, 5xx, -32, a refused token)', labelNames: ['channel', 'method'], registers });
    this.broadcastSends = new Counter({
      name: `${PREFIX}broadcast_sends_total`,
      help: 'Broadcast deliveries handled by this process, by channel and outcome (sent, pending = retried later, unreachable, outside_window, failed); rate() of sent is the broadcast rate',
      labelNames: ['channel', 'status'],
      registers,
    });
    this.dependencyUp = new Gauge({
      name: `${PREFIX}dependency_up`,
      help: 'Whether a dependency (redis, database) answered its last check: 1 up, 0 down (checked at every scrape and /readyz)',
      labelNames: ['dependency'],
      registers,
      collect: () => this.checkDependencies(),
    });
    this.dependencyFailures = new Counter({ name: `${PREFIX}dependency_check_failures_total`, help: 'Failed checks of a dependency', labelNames: ['dependency'], registers });
    this.dependencyOutages = new Counter({ name: `${PREFIX}dependency_outages_total`, help: 'Times a dependency went from up to down', labelNames: ['dependency'], registers });
    this.defineCollectedGauges(registers);
    diagnostics.subscribe(OUTBOUND_DIAGNOSTICS_CHANNEL, this.onOutbound);
  }

  /** Where the scrape-time gauges read from (set once the database is open). */
  setSources(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Pipeline observer: one call per update. */
  readonly observeUpdate = (event: { channel: string; kind: string }, outcome: UpdateOutcome, seconds: number): void => {
    this.updates.inc({ channel: event.channel, kind: event.kind, outcome });
    if (outcome !== 'duplicate') this.pipelineSeconds.observe({ channel: event.channel }, seconds);
  };

  /** Broadcast sender observer: the outcomes of one batch. */
  readonly observeBroadcastOutcomes = (channel: string, outcomes: ReadonlyArray<{ status: string }>): void => {
    for (const o of outcomes) this.broadcastSends.inc({ channel, status: o.status });
  };

  /**
   * Wraps the readiness checks so that every run (by /readyz or by a scrape) updates the dependency gauges; the
   * wrapped checks are also run at each scrape. A dependency that does not answer within 2 s counts as down (a
   * client may queue commands while it reconnects rather than fail them).
   */
  watchDependencies(checks: DependencyCheck[]): DependencyCheck[] {
    this.dependencies = checks.map(({ name, check }) => ({
      name,
      check: async () => {
        try {
          await withTimeout(check(), COLLECT_TIMEOUT_MS, `${name} did not answer within ${COLLECT_TIMEOUT_MS} ms`);
          this.recordDependency(name, true);
        } catch (err) {
          this.recordDependency(name, false);
          throw err;
        }
      },
    }));
    return this.dependencies;
  }

  /** The text exposition (what `GET /metrics` answers). */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    diagnostics.unsubscribe(OUTBOUND_DIAGNOSTICS_CHANNEL, this.onOutbound);
  }

  private countOutbound(a: OutboundAttempt): void {
    this.outboundAttempts.inc({ channel: a.channel, method: a.method, status: a.status });
    if (a.retry) this.outboundRetries.inc({ channel: a.channel, method: a.method });
  }

  private recordDependency(name: string, up: boolean): void {
    this.dependencyUp.set({ dependency: name }, up ? 1 : 0);
    if (!up) this.dependencyFailures.inc({ dependency: name });
    if (!up && this.lastState.get(name) !== false) this.dependencyOutages.inc({ dependency: name });
    this.lastState.set(name, up);
  }

  private async checkDependencies(): Promise<void> {
    await Promise.all(this.dependencies.map((d) => d.check().catch(() => undefined)));
  }

  private defineCollectedGauges(registers: Registry[]): void {
    // One database read per scrape feeds the notice and broadcast gauges; the collect() of each awaits it.
    let pending: Promise<void> | null = null;
    const readDatabase = (): Promise<void> => {
      pending ??= this.readDatabase({ noticesPending, noticesOldest, broadcastsRunning, broadcastDeliveries }).finally(() => setImmediate(() => (pending = null)));
      return pending;
    };
    const readTokens = async (): Promise<void> => {
      tokenAge.reset();
      tokenExpiry.reset();
      const dates = this.sources.zaloTokens ? await withTimeout(this.sources.zaloTokens(), COLLECT_TIMEOUT_MS, 'the Zalo token store did not answer').catch(() => null) : null;
      if (!dates) return;
      const now = this.clock();
      if (dates.obtainedAt > 0) tokenAge.set((now - dates.obtainedAt) / 1000);
      if (dates.expiresAt !== null) tokenExpiry.set((dates.expiresAt - now) / 1000);
    };
    const noticesPending = new Gauge({ name: `${PREFIX}notices_pending`, help: 'Notices (to officials, status updates) queued and not yet delivered', registers, collect: readDatabase });
    const noticesOldest = new Gauge({ name: `${PREFIX}notices_oldest_pending_seconds`, help: 'Age of the oldest notice not yet delivered (0 when none)', registers, collect: readDatabase });
    const broadcastsRunning = new Gauge({ name: `${PREFIX}broadcasts_running`, help: 'Broadcasts being sent', registers, collect: readDatabase });
    const broadcastDeliveries = new Gauge({
      name: `${PREFIX}broadcast_deliveries`,
      help: 'Deliveries of the running broadcasts by channel and status (pending, sending, sent, failed, ...): their progress',
      labelNames: ['channel', 'status'],
      registers,
      collect: readDatabase,
    });
    const tokenAge = new Gauge({ name: `${PREFIX}zalo_token_age_seconds`, help: 'Age of the stored Zalo access token', registers, collect: readTokens });
    const tokenExpiry = new Gauge({ name: `${PREFIX}zalo_token_expires_in_seconds`, help: 'Time until the stored Zalo access token expires (negative: expired)', registers, collect: readTokens });
  }

  private async readDatabase(g: { noticesPending: Gauge; noticesOldest: Gauge; broadcastsRunning: Gauge; broadcastDeliveries: Gauge<'channel' | 'status'> }): Promise<void> {
    const db = this.sources.db;
    if (!db) return;
    try {
      const [notices, running, deliveries] = await withTimeout(
        Promise.all([
          db.query<{ n: number; oldest: Date | null }>('SELECT count(*)::int AS n, min(created_at) AS oldest FROM notices WHERE sent_at IS NULL AND gave_up_at IS NULL'),
          db.query<{ n: number }>(`SELECT count(*)::int AS n FROM broadcasts WHERE status = 'sending'`),
          db.query<{ channel: string; status: string; n: number }>(
            `SELECT d.channel, d.status, count(*)::int AS n FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id WHERE b.status = 'sending' GROUP BY d.channel, d.status`,
          ),
        ]),
        COLLECT_TIMEOUT_MS,
        'the database did not answer',
      );
      const oldest = notices[0]?.oldest;
      g.noticesPending.set(notices[0]?.n ?? 0);
      g.noticesOldest.set(oldest ? Math.max(0, (this.clock() - new Date(oldest).getTime()) / 1000) : 0);
      g.broadcastsRunning.set(running[0]?.n ?? 0);
      g.broadcastDeliveries.reset();
      for (const d of deliveries) g.broadcastDeliveries.set({ channel: d.channel, status: d.status }, d.n);
    } catch {
      // The database is down: these gauges go stale (cgb_dependency_up says why); the scrape still answers.
      g.broadcastDeliveries.reset();
    }
  }
}
