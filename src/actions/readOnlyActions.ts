/**
 * Actions that only read (show a list, look something up, copy an answer): they store, count, send and delete
 * nothing. A deep link, a QR code or a typed request may lead straight to them; every other action must come after a
 * question the person answers (the flow loader checks this for every entry step).
 */
export const READ_ONLY_ACTIONS: readonly string[] = [
  'listContacts',
  'communeHelp',
  'canPush',
  'searchServices',
  'describeService',
  'describeStation',
  'listAreas',
  'describeMap',
  'nearestStation',
  'useProfileCommune',
  'listMyReports',
  'checkEnrolment',
  'subscriptionStatus',
  'findVenueForCheckin',
  'findOpenCheckin',
  'loadMyVenues',
  'startBroadcastDraft',
  'previewBroadcast',
];
