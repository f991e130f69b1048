// The cue sound: short WebAudio beeps, off until the presenter switches them on (browsers play
// audio only after a user gesture), the choice remembered in this browser.

const PREFERENCE_KEY = "greenroom.cueSound";

export class Chime {
  constructor(button, defaultOn) {
    this.button = button;
    this.context = null;
    this.on = false;
    button.addEventListener("click", () => {
      this.set(!this.on);
      this.play(1);
    });
    const preference = localStorage.getItem(PREFERENCE_KEY);
    if (preference ? preference === "on" : defaultOn) {
      // The first click anywhere on the page turns it on.
      addEventListener("pointerdown", () => { if (!this.on) this.set(true); }, { once: true });
    }
  }

  set(on) {
    this.on = on;
    if (on && !this.context) this.context = new AudioContext();
    if (this.context) this.context.resume();
    this.button.setAttribute("aria-pressed", String(on));
    this.button.textContent = `Sound on cues: ${on ? "on" : "off"}`;
    localStorage.setItem(PREFERENCE_KEY, on ? "on" : "off");
  }

  play(beeps) {
    if (!this.on || !this.context) return;
    const start = this.context.currentTime + 0.02;
    for (let index = 0; index < beeps; index += 1) {
      const at = start + index * 0.25;
      const tone = this.context.createOscillator();
      const gain = this.context.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0, at);
      gain.gain.linearRampToValueAtTime(0.25, at + 0.01);
      gain.gain.linearRampToValueAtTime(0, at + 0.15);
      tone.connect(gain).connect(this.context.destination);
      tone.start(at);
      tone.stop(at + 0.16);
    }
  }
}
