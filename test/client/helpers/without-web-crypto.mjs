// Preload (node --import) that removes Web Crypto, as React Native has none without a polyfill:
// run the client's tests with it once to see that nothing in the client needs it.
//   npx tap --node-arg=--import=./test/client/helpers/without-web-crypto.mjs test/client/*.test.ts
delete globalThis.crypto
