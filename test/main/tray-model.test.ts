import { describe, expect, it } from 'vitest'
import { trayView, type TrayState } from '../../src/main/tray-model'

const base: TrayState = {
  tunnel: { state: 'online', mode: 'tunnel', url: 'https://quiet-fox.loca.lt' },
  paused: false,
  failures: 0,
  openAtLogin: false,
}

describe('tray view', () => {
  it('is calm when the tunnel is online and nothing failed', () => {
    const view = trayView(base)
    expect(view.icon).toBe('normal')
    expect(view.tooltip).toBe('Switchboard · Tunnel: online · No unresolved failures')
    expect(view.items.map((i) => i.label ?? '—')).toEqual([
      'Open Switchboard',
      '—',
      'Tunnel: online',
      'No unresolved failures',
      '—',
      'Pause intake',
      'Copy public URL',
      'Launch at login',
      '—',
      'Quit Switchboard',
    ])
  })

  it('asks for attention on failures, a paused intake or a tunnel that is not online', () => {
    expect(trayView({ ...base, failures: 1 }).icon).toBe('alert')
    expect(trayView({ ...base, failures: 1 }).items.find((i) => i.id === 'failures')).toMatchObject({
      label: '1 unresolved failure',
      enabled: true,
    })
    expect(trayView({ ...base, failures: 12 }).tooltip).toContain('12 unresolved failures')
    expect(trayView({ ...base, paused: true }).items.find((i) => i.id === 'toggle-intake')?.label).toBe(
      'Resume intake',
    )
    expect(trayView({ ...base, paused: true }).icon).toBe('alert')
    expect(trayView({ ...base, tunnel: { ...base.tunnel!, state: 'reconnecting' } }).icon).toBe('alert')
  })

  it('shows an external URL setup and the off state plainly', () => {
    const external = trayView({
      ...base,
      tunnel: { state: 'online', mode: 'external', url: 'https://hooks.example.com' },
    })
    expect(external.items[2]!.label).toBe('Public URL: https://hooks.example.com')
    const off = trayView({ ...base, tunnel: { state: 'off', mode: 'off', url: null } })
    expect(off.icon).toBe('normal')
    expect(off.items.find((i) => i.id === 'copy-url')?.enabled).toBe(false)
  })
})
