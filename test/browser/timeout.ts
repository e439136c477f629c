// A page load and its charts in Chromium take seconds on a loaded machine; the other tiers keep the
// global 20 s (jest.config.js).
jest.setTimeout(60_000);
