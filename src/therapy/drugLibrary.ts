/**
 * The default drug library: per drug the highest concentration and the soft and hard maxima of
 * the daily dose and of one bolus, in firmware units (ng, µg/mL).
 *
 * Every figure and its source is tabulated in docs/drug-library.md; figures marked UNCONFIRMED
 * there are placeholders to be checked against current labelling before clinical use. A clinic
 * replaces this library with its own file (`drugLibrary:` in a scenario, or `--library`).
 */
import { NG_PER_MG, NG_PER_UG, UG_PER_MG } from '../units.js';
import { drugLibrarySchema, type DrugLibrary } from './schema.js';

const mg = (n: number) => Math.round(n * NG_PER_MG);
const ug = (n: number) => Math.round(n * NG_PER_UG);
const mgPerMl = (n: number) => n * UG_PER_MG;

export const defaultDrugLibrary: DrugLibrary = drugLibrarySchema.parse({
  name: 'itpump default (see docs/drug-library.md)',
  drugs: [
    // Infumorph label: 10 and 25 mg/mL; tolerant 1-10 mg/day; caution above 20 mg/day.
    {
      drug: 'morphine',
      concentrationUgPerMlMax: mgPerMl(25),
      dailyDoseNgSoftMax: mg(10),
      dailyDoseNgHardMax: mg(20),
      bolusDoseNgSoftMax: mg(0.5),
      bolusDoseNgHardMax: mg(1),
    },
    {
      drug: 'hydromorphone',
      concentrationUgPerMlMax: mgPerMl(15),
      dailyDoseNgSoftMax: mg(5),
      dailyDoseNgHardMax: mg(10),
      bolusDoseNgSoftMax: mg(0.1),
      bolusDoseNgHardMax: mg(0.2),
    },
    {
      drug: 'fentanyl',
      concentrationUgPerMlMax: mgPerMl(10),
      dailyDoseNgSoftMax: ug(500),
      dailyDoseNgHardMax: ug(1000),
      bolusDoseNgSoftMax: ug(25),
      bolusDoseNgHardMax: ug(50),
    },
    {
      drug: 'sufentanil',
      concentrationUgPerMlMax: mgPerMl(5),
      dailyDoseNgSoftMax: ug(100),
      dailyDoseNgHardMax: ug(200),
      bolusDoseNgSoftMax: ug(5),
      bolusDoseNgHardMax: ug(10),
    },
    // Prialt: maximum 19.2 µg/day; not for patient-activated boluses, so its bolus maxima are 0.
    {
      drug: 'ziconotide',
      concentrationUgPerMlMax: 100,
      dailyDoseNgSoftMax: ug(12),
      dailyDoseNgHardMax: ug(19.2),
      bolusDoseNgSoftMax: 0,
      bolusDoseNgHardMax: 0,
    },
    {
      drug: 'bupivacaine',
      concentrationUgPerMlMax: mgPerMl(30),
      dailyDoseNgSoftMax: mg(20),
      dailyDoseNgHardMax: mg(30),
      bolusDoseNgSoftMax: mg(1),
      bolusDoseNgHardMax: mg(2),
    },
    {
      drug: 'clonidine',
      concentrationUgPerMlMax: 1000,
      dailyDoseNgSoftMax: ug(600),
      dailyDoseNgHardMax: ug(1000),
      bolusDoseNgSoftMax: ug(20),
      bolusDoseNgHardMax: ug(40),
    },
    // Lioresal/Gablofen: up to 2000 µg/mL; not to exceed 1000 µg/day; screening boluses 50-100 µg.
    {
      drug: 'baclofen',
      concentrationUgPerMlMax: 2000,
      dailyDoseNgSoftMax: ug(800),
      dailyDoseNgHardMax: ug(1000),
      bolusDoseNgSoftMax: ug(50),
      bolusDoseNgHardMax: ug(100),
    },
  ],
});
