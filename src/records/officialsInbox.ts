import type { GroupEventHandler } from '../groups/GroupEvents';
import type { RecordsService } from './RecordsService';

/** Record ids are PostgreSQL `serial` (int4). */
const MAX_RECORD_ID = 2_147_483_647;

/**
 * Buttons on notices in officials' groups: `rec:ack:<id>` (Tiếp nhận) and `rec:done:<id>` (Đã xử lý). They work only
 * from the group the notice went to; each change is stored with who made it and when, and the citizen is told.
 */
export function createOfficialsInbox(service: RecordsService, clock: () => number = Date.now): GroupEventHandler {
  return async (event) => {
    if (event.kind !== 'button' || !event.data) return null;
    const m = /^rec:(ack|done):(\d{1,10})$/.exec(event.data);
    if (!m) return null;
    // A foreign group learns nothing: a record of another group, a deleted one and an impossible id get one answer.
    const notHere = { replies: [], toast: service.officialsText('officials.notYourGroup') };
    if (Number(m[2]) > MAX_RECORD_ID) return notHere;
    const status = m[1] === 'ack' ? 'acknowledged' : 'resolved';
    const now = new Date(clock());
    const result = await service.changeStatus(Number(m[2]), status, { officialId: event.fromUserId, officialName: event.fromName, chatId: event.chatId }, now);
    if (!result.ok) return notHere;
    if (!result.changed) return { replies: [], toast: service.officialsText('officials.alreadyDone') };
    const key = status === 'acknowledged' ? 'officials.acknowledgedBy' : 'officials.resolvedBy';
    return {
      replies: [{ kind: 'text', text: service.officialsText(key, { reference: result.record.reference, name: event.fromName, time: service.formatTime(now) }) }],
      toast: service.officialsText('officials.updated'),
    };
  };
}
