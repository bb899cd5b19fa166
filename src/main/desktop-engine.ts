import type { Engine } from '../core/engine'

/** The part of the engine the desktop shell talks to. */
export type DesktopEngine = Pick<Engine, 'call' | 'changes' | 'start' | 'stop'>
