import type { Locality } from './localitySchema';

/**
 * The facts a locality file leaves empty, as lines for the district's IT officer ("communes[].healthStation.phone: 19
 * of 19 communes"). The bot hides what is empty; start-up prints these in one warning so that someone fills them.
 */
export function listLocalityGaps(locality: Locality): string[] {
  const gaps: string[] = [];
  const communes = locality.communes;
  const missing = (path: string, count: number) => {
    if (count > 0) gaps.push(`communes[].${path}: ${count} of ${communes.length} communes`);
  };
  missing('healthStation.phone', communes.filter((c) => !c.healthStation.phone).length);
  missing('healthStation.address', communes.filter((c) => !c.healthStation.address).length);
  missing('healthStation.openingHours', communes.filter((c) => !c.healthStation.openingHours).length);
  missing('healthStation.location', communes.filter((c) => !c.healthStation.location).length);
  missing('helpContact', communes.filter((c) => !c.helpContact).length);
  const app = locality.tracingApp;
  if (!app.districtHelpContact) gaps.push('tracingApp.districtHelpContact');
  if (!app.storePublisher) gaps.push('tracingApp.storePublisher');
  if (!app.android.link) gaps.push('tracingApp.android.link');
  if (!app.ios.link) gaps.push('tracingApp.ios.link');
  if (!locality.qrCheckin.declarationSite) gaps.push('qrCheckin.declarationSite');
  const epidemic = locality.epidemic;
  if (!epidemic.provincialMapLink) gaps.push('epidemic.provincialMapLink');
  if (epidemic.checkpoints.length === 0) gaps.push('epidemic.checkpoints (none listed)');
  if (epidemic.isolationAreas.length === 0) gaps.push('epidemic.isolationAreas (none listed)');
  if (epidemic.lockdownAreas.length === 0) gaps.push('epidemic.lockdownAreas (none listed)');
  return gaps;
}
