/**
 * The fleet tests' scenario: six days of one small fill of morphine and clonidine, so most
 * patients reach the low-reservoir alarm and press often. Each test file names it and seeds it.
 */
export function smallFleetScenarioText(name: string, seed: number): string {
  return `
name: ${name}
seed: ${seed}
duration: 6d
pump: { lowReservoir: 2 mL, emptyReservoir: 0.5 mL }
initialFill: { volume: 4 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }, { drug: clonidine, concentration: 100 ug/mL }] }
prescription: { mode: continuous, dose: 1 mg/day }
ptm: { bolusDose: 0.1 mg, bolusDuration: 10 min, lockout: 3 h, maxPer24h: 4 }
demand: { episodesPerDay: 2, pressesPerEpisode: [1, 4] }
`;
}
