import type { GroupEventHandler } from '../groups/GroupEvents';
import type { RecordsService } from './RecordsService';

/**
 * Buttons on notices in officials' groups: `rec:ack:<id>` (Tiếp nhận) and `rec:done:<id>` (Đã xử lý). They work only
 * from the group the notice went to; each change is stored with who made it and when, and the citizen is told.
 */
export function createOfficialsInbox(service: RecordsService, clock: () => number = Date.now): GroupEventHandler {
  return async (event) => {
    if (event.kind !== 'button' || !event.data) return null;
    const m = /^rec:(ack|done):(\d{1,10})$/.exec(event.data);
    if (!m) return null;
    const status = m[1] === 'ack' ? 'acknowledged' : 'resolved';
    const now = new Date(clock());
    const result = await service.repo.changeStatus(Number(m[2]), status, { officialId: event.fromUserId, officialName: event.fromName, chatId: event.chatId }, now);
    if (!result.ok) return { replies: [], toast: service.officialsText(result.reason === 'wrong-chat' ? 'officials.notYourGroup' : 'officials.notFound') };
    if (!result.changed) return { replies: [], toast: service.officialsText('officials.alreadyDone') };
    await service.notifyCitizen(result.record, now);
    const key = status === 'acknowledged' ? 'officials.acknowledgedBy' : 'officials.resolvedBy';
    return {
      replies: [{ kind: 'text', text: service.officialsText(key, { reference: result.record.reference, name: event.fromName, time: service.formatTime(now) }) }],
      toast: service.officialsText('officials.updated'),
    };
  };
}
