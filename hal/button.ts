/**
 * Patient button port: the patient's request for a bolus (the PTM handset, or the rig's push
 * button). The port debounces; one press is one event. It carries no decision: whether a press is
 * granted is the controller's alone.
 */
export type ButtonEvent = { type: 'hal.button.pressed' };

export interface ButtonPort {
  listen(listener: (event: ButtonEvent) => void): void;
}
