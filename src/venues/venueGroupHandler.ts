import type { GroupEvent, GroupEventHandler } from '../groups/GroupEvents';
import type { Locality } from '../locality/localitySchema';
import type { VenueScope, VenueService } from './VenueService';

/**
 * Which communes an officials' group speaks for: the district group all of them, a commune's group its own
 * (`officialsTelegramChatId` in the locality file); any other chat none.
 */
export function groupScope(event: GroupEvent, locality: Locality, districtChatId: string | null): VenueScope | null {
  const actor = { id: `${event.channel}:${event.fromUserId}`, name: event.fromName };
  if (districtChatId && event.chatId === districtChatId) return { communes: 'all', actor };
  const communes = locality.communes.filter((c) => c.officialsTelegramChatId === event.chatId).map((c) => c.id);
  return communes.length > 0 ? { communes, actor } : null;
}

const LIST_COMMAND = /^\/diadiem(?:@\w+)?\s*$/i;

/**
 * Officials' groups and venues: the buttons under a new venue's notice (`ven:ok:<id>` Xác nhận, `ven:no:<id>` Từ
 * chối), working only in a group whose scope holds the venue's commune, and `/diadiem`, the list of the group's
 * venues with their status.
 */
export function createVenueGroupHandler(service: VenueService, locality: Locality, districtChatId: string | null): GroupEventHandler {
  return async (event) => {
    if (event.kind === 'text' && event.text && LIST_COMMAND.test(event.text.trim())) {
      const scope = groupScope(event, locality, districtChatId);
      if (!scope) return { replies: [{ kind: 'text', text: service.officialsText('officials.notYourGroup') }] };
      return { replies: [{ kind: 'text', text: await service.listText(scope) }] };
    }
    if (event.kind !== 'button' || !event.data) return null;
    const m = /^ven:(ok|no):(\d{1,10})$/.exec(event.data);
    if (!m) return null;
    const scope = groupScope(event, locality, districtChatId);
    if (!scope) return { replies: [], toast: service.officialsText('officials.notYourGroup') };
    const status = m[1] === 'ok' ? 'confirmed' : 'rejected';
    const result = await service.decide(scope, Number(m[2]), status);
    if (!result.ok) return { replies: [], toast: service.officialsText(result.error === 'out-of-scope' ? 'officials.notYourGroup' : 'officials.notFound') };
    if (!result.changed) return { replies: [], toast: service.officialsText('officials.alreadyDone') };
    const key = status === 'confirmed' ? 'officials.venueConfirmedBy' : 'officials.venueRejectedBy';
    return {
      replies: [{ kind: 'text', text: service.officialsText(key, { reference: result.venue.reference, name: event.fromName, time: service.formatTime(result.venue.decidedAt ?? new Date()) }) }],
      toast: service.officialsText('officials.updated'),
    };
  };
}
