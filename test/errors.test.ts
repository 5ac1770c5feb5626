import { z } from 'zod';
import { formatZodIssues } from '../src/errors';

describe('formatZodIssues', () => {
  it('writes one line per problem, naming its path, or the root for the whole value', () => {
    const parsed = z.object({ message: z.object({ text: z.string() }), ids: z.array(z.number()) }).safeParse({ message: {}, ids: [1, 'x'] });
    expect(parsed.success).toBe(false);
    expect(formatZodIssues(parsed.error!.issues)).toEqual([expect.stringMatching(/^message\.text: /), expect.stringMatching(/^ids\.1: /)]);
    const whole = z.object({}).safeParse('not an object');
    expect(formatZodIssues(whole.error!.issues, '(file)')).toEqual([expect.stringMatching(/^\(file\): /)]);
  });
});
