import { randomInt } from 'node:crypto';
import { isValidVmName } from '../model/index.js';

/**
 * Generated VM names: adjective-noun, hostname-safe, unique against whatever `isTaken`
 * says (the store). After a number of collisions a numeric suffix is added, so the
 * function always terminates.
 */
const ADJECTIVES = [
  'amber',
  'bold',
  'brave',
  'brisk',
  'calm',
  'clever',
  'cosmic',
  'crisp',
  'daring',
  'deft',
  'eager',
  'fancy',
  'fast',
  'fluffy',
  'gentle',
  'glad',
  'golden',
  'happy',
  'hidden',
  'humble',
  'icy',
  'jolly',
  'keen',
  'kind',
  'lively',
  'lucky',
  'mellow',
  'merry',
  'misty',
  'nimble',
  'noble',
  'odd',
  'plucky',
  'polite',
  'proud',
  'quick',
  'quiet',
  'rapid',
  'rosy',
  'rusty',
  'shiny',
  'silent',
  'sleek',
  'snowy',
  'solid',
  'sunny',
  'swift',
  'tidy',
  'vivid',
  'witty',
] as const;

const NOUNS = [
  'badger',
  'beacon',
  'birch',
  'bison',
  'canyon',
  'cedar',
  'comet',
  'coral',
  'crane',
  'delta',
  'ember',
  'falcon',
  'fern',
  'fjord',
  'gecko',
  'glacier',
  'harbor',
  'heron',
  'island',
  'jaguar',
  'kestrel',
  'lagoon',
  'lantern',
  'lynx',
  'maple',
  'meadow',
  'nebula',
  'otter',
  'panda',
  'pebble',
  'pine',
  'quartz',
  'raven',
  'reef',
  'river',
  'robin',
  'sparrow',
  'spruce',
  'summit',
  'tiger',
  'tundra',
  'valley',
  'walrus',
  'willow',
  'wombat',
  'yak',
  'zebra',
  'orchid',
  'marten',
  'basalt',
] as const;

export type RandomIndex = (maxExclusive: number) => number;

export function generateVmName(isTaken: (name: string) => boolean, random: RandomIndex = randomInt): string {
  const pick = <T>(list: readonly T[]): T => list[random(list.length)]!;
  for (let attempt = 0; attempt < 64; attempt++) {
    const name = `${pick(ADJECTIVES)}-${pick(NOUNS)}`;
    if (!isTaken(name)) return name;
  }
  for (let suffix = 2; ; suffix++) {
    const name = `${pick(ADJECTIVES)}-${pick(NOUNS)}-${suffix}`;
    if (!isTaken(name)) return name;
  }
}

/** Exposed for tests: every word combination must be a valid VM name. */
export const WORD_LISTS = { adjectives: ADJECTIVES, nouns: NOUNS };
export { isValidVmName };
