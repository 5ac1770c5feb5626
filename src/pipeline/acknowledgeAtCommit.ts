/**
 * "Acknowledge the platform at commit, then deliver", written once for every channel.
 *
 * `run` handles one event through the pipeline and calls `committed` as soon as the event is committed (its
 * delivery then goes on inside the user's lease). The returned promise resolves:
 * - when `run` finishes (duplicate, ignored, or committed and delivered), or
 * - `holdMs` after the commit, whichever comes first, so that a slow platform API never holds the webhook;
 * and rejects only when `run` fails before the commit (the channel answers 5xx and the platform redelivers). A
 * failure after the commit goes to `onLateError`: a redelivery would be a duplicate anyway.
 *
 * Why hold at all (Telegram: 1 s): Telegram sends a chat's next update only after this one is answered, so answering
 * after the replies keeps the chat's order without the next update waiting for this one's lease. Zalo wants its
 * answer within 2 s and is answered at the commit (holdMs 0).
 */
export function acknowledgeAtCommit(run: (committed: () => void) => Promise<unknown>, holdMs: number, onLateError: (err: unknown) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = () => {
      if (timer) clearTimeout(timer);
      if (settled) return;
      settled = true;
      resolve();
    };
    const committed = () => {
      if (settled || timer) return;
      if (holdMs <= 0) settle();
      else timer = setTimeout(settle, holdMs);
    };
    run(committed).then(settle, (err: unknown) => {
      if (timer) clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(err);
        return;
      }
      onLateError(err);
    });
  });
}
