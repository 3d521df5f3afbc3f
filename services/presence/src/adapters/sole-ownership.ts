import type { PresencePeers, UserOwnership } from "../ports.js";

const SELF = "self";

/** One presence instance (the embedded mode, or static addresses): it owns every user and has no peers. */
export const soleOwnership: UserOwnership = {
  ownerOf: () => SELF,
  owns: () => true,
  serving: () => true,
  settled: () => true,
  onChange: () => {},
};

/** The peers of a sole instance: none, so nothing is ever sent to one. */
export const noPeers: PresencePeers = {
  relay: () => {
    throw new Error("a sole presence instance has no peers");
  },
  getPresence: () => Promise.reject(new Error("a sole presence instance has no peers")),
};
