import { z } from 'zod';

const DEFAULTS = {
  autoConfirm: false,
  checkinRetentionDays: 21,
  checkoutAfterMinutes: 10,
  assumedStayMinutes: 120,
  checkinsPerHour: 6,
  registrationsPerDay: 5,
} as const;

/** The `venues` section of a locality file; every field has a default, so older files stay valid. */
export const venueSettingsSchema = z
  .object({
    /** Venues registered by owners are confirmed at once: everywhere (true), nowhere (false) or in these communes. */
    autoConfirm: z.union([z.boolean(), z.array(z.string())]).default(DEFAULTS.autoConfirm),
    /** Days a check-in (name, phone, times) is kept before the daily job deletes it. */
    checkinRetentionDays: z.number().int().min(1).max(365).default(DEFAULTS.checkinRetentionDays),
    /** A second scan of the same venue after this many minutes offers to check out. */
    checkoutAfterMinutes: z.number().int().min(1).max(720).default(DEFAULTS.checkoutAfterMinutes),
    /** For tracing, how long a visitor who never checked out is taken to have stayed. */
    assumedStayMinutes: z.number().int().min(5).max(1440).default(DEFAULTS.assumedStayMinutes),
    /** Check-ins one person may make at one venue in an hour. */
    checkinsPerHour: z.number().int().min(1).max(100).default(DEFAULTS.checkinsPerHour),
    /** Venues one person may register in a day. */
    registrationsPerDay: z.number().int().min(1).max(100).default(DEFAULTS.registrationsPerDay),
  })
  .strict()
  .default(DEFAULTS);

export type VenueSettings = z.infer<typeof venueSettingsSchema>;
