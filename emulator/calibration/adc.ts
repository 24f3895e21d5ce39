/**
 * The readout a calibration sees: every recorded membrane and rate passes through the chip's column
 * ADC (preset `adc`: bits over [min, max], read noise `noise.adc_lsb` LSB, the conversion of
 * isa/lanes.ts adcCode that the processor's vadc uses), so measurements carry the resolution,
 * clipping and noise they would on silicon.
 */
import type { ChipSpecT } from '../../chip/spec.js';
import { Rng } from '../../common/random.js';
import { adcCode } from '../../isa/lanes.js';

/** A seeded ADC: read(value) gives the value the converter reports, in the observable's unit. */
export class Adc {
  private readonly rng: Rng;
  private readonly top: number;
  private readonly noiseLsb: number;

  constructor(readonly chip: Pick<ChipSpecT, 'adc' | 'noise'>, seed: number, purpose: string, noiseLsb?: number) {
    this.rng = new Rng(seed, `calibration-adc:${purpose}`);
    this.top = 2 ** chip.adc.bits - 1;
    this.noiseLsb = noiseLsb ?? chip.noise.adc_lsb;
  }

  /** One conversion: quantised to the ADC's codes (with read noise), back in the observable's unit. */
  read(value: number): number {
    const noise = this.noiseLsb > 0 ? this.noiseLsb * this.rng.normal() : 0;
    const code = adcCode(value, this.chip.adc, noise);
    return this.chip.adc.min + (code / this.top) * (this.chip.adc.max - this.chip.adc.min);
  }

  /** True unless the reading sits on a rail (code 0 or the top code: the true value may lie beyond). */
  inRange(reading: number): boolean {
    const lsb = (this.chip.adc.max - this.chip.adc.min) / this.top;
    return reading > this.chip.adc.min + 0.5 * lsb && reading < this.chip.adc.max - 0.5 * lsb;
  }
}
