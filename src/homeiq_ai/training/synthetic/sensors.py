"""Chatty numeric sensors (most of a home's events), the weather entity, dropouts and restarts (numpy)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from homeiq_ai.kernel.sun import solar_elevation
from homeiq_ai.training.synthetic.behaviour import Planter
from homeiq_ai.training.synthetic.events import EventBuffer, from_us
from homeiq_ai.training.synthetic.layout import Layout, SensorInfo
from homeiq_ai.training.synthetic.spec import NoiseTruth, UnavailableWindow
from homeiq_ai.training.synthetic.timeline import Clock, Intervals
from homeiq_ai.training.synthetic.weather import WeatherSeries

__all__ = ["SensorPlant", "plant_sensors"]

_HOUR = 3600.0
_DAY = 86400.0

# Seconds between reports: (low, high) of a uniform draw.
_CADENCE = {
    "temp_in": (60.0, 300.0), "hum_in": (60.0, 300.0), "lux_in": (60.0, 300.0), "co2": (60.0, 180.0),
    "temp_out": (120.0, 300.0), "hum_out": (120.0, 300.0), "lux_out": (60.0, 300.0),
    "energy": (300.0, 600.0), "grid_power": (30.0, 90.0), "grid_energy": (300.0, 600.0),
    "battery": (3 * _HOUR, 8 * _HOUR), "uptime": (299.0, 301.0), "download": (600.0, 1200.0),
    "wifi_clients": (300.0, 900.0),
}  # fmt: skip
_DECIMALS = {
    "temp_in": 1, "temp_out": 1, "hum_in": 0, "hum_out": 0, "lux_in": 0, "lux_out": 0, "co2": 0, "power": 1,
    "fridge": 1, "energy": 3, "grid_power": 0, "grid_energy": 3, "battery": 0, "uptime": 0, "download": 1,
    "wifi_clients": 0,
}  # fmt: skip


class SensorPlant(NamedTuple):
    """What planting the sensors produced: initial states and the noise truth."""

    initial_states: dict[str, str]
    noise: NoiseTruth


class _Series(NamedTuple):
    t: np.ndarray  # unix seconds, sorted
    v: np.ndarray


def _report_times(t0: float, t1: float, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Report times from t0 to t1 with uniform gaps in [lo, hi] seconds."""
    n = int((t1 - t0) / lo) + 2
    gaps = rng.uniform(lo, hi, n)
    t = t0 + float(rng.uniform(0, hi)) + np.cumsum(gaps) - gaps[0]
    return t[t < t1]


def _in_intervals(t: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which times fall inside sorted disjoint intervals, and the index of that interval (or -1)."""
    if starts.shape[0] == 0:
        return np.zeros(t.shape[0], dtype=bool), np.full(t.shape[0], -1)
    idx = np.searchsorted(starts, t, side="right") - 1
    inside = (idx >= 0) & (t < ends[np.maximum(idx, 0)])
    return inside, np.where(inside, idx, -1)


def _arrays(intervals: Intervals) -> tuple[np.ndarray, np.ndarray]:
    iv = sorted(intervals)
    return (
        np.asarray([s / 1e6 for s, _ in iv], dtype=np.float64),
        np.asarray([e / 1e6 for _, e in iv], dtype=np.float64),
    )


def _smooth_noise(rng: np.random.Generator, n: int, sd: float, width: int) -> np.ndarray:
    """Slowly varying noise with standard deviation about `sd` (white noise through a moving average)."""
    white = rng.normal(0.0, 1.0, n + width)
    kernel = np.ones(width) / math.sqrt(width)
    return sd * np.convolve(white, kernel, mode="valid")[:n]


def _sig2(v: np.ndarray) -> np.ndarray:
    """Round to two significant digits (light sensors report coarse values)."""
    out = np.zeros_like(v)
    pos = v >= 1.0
    scale = 10.0 ** (np.floor(np.log10(v[pos])) - 1)
    out[pos] = np.round(v[pos] / scale) * scale
    return out


def _outdoor_lux(elev: np.ndarray, cloud: np.ndarray) -> np.ndarray:
    day = np.clip(np.sin(np.radians(np.maximum(elev, 0.0))), 0.0, 1.0) ** 1.15 * 110_000.0
    twilight = np.where((elev > -6.0) & (elev <= 0.0), 8.0 * (elev + 6.0) / 6.0, 0.0)
    return (day * (1.0 - 0.75 * cloud**2)) + twilight


class _Sensors:
    """Produces the chatty sensors' reports from the weather, the occupancy and the appliances' activity."""

    def __init__(
        self,
        clock: Clock,
        layout: Layout,
        planter: Planter,
        weather: WeatherSeries,
        buffer: EventBuffer,
        rng: np.random.Generator,
        latitude: float,
        longitude: float,
    ) -> None:
        self.clock = clock
        self.layout = layout
        self.planter = planter
        self.weather = weather
        self.buffer = buffer
        self.rng = rng
        self.t0 = clock.start_us / 1e6
        self.t1 = clock.end_us / 1e6
        self.series: dict[str, _Series] = {}
        self.initial: dict[str, str] = {}
        self.windows: list[UnavailableWindow] = []
        self.restarts: list[float] = []
        self.restart_len: list[float] = []
        days = len(clock.days)
        self.latitude = latitude
        self.longitude = longitude
        # Hourly context: outdoor weather, occupancy, climate set point.
        wt = weather.t_s
        t_us = (wt * 1e6).astype(np.int64)
        self.n_home = planter.home_count(t_us).astype(np.float64)
        awake = np.zeros(wt.shape[0], dtype=bool)
        if planter.awake_home:
            s, e = _arrays(planter.awake_home)
            awake, _ = _in_intervals(wt, s, e)
        self.awake = awake.astype(np.float64)
        modes = planter.climate_modes or ["off"] * days
        day_idx = np.clip(((wt - self.t0) // _DAY).astype(np.int64), 0, max(0, len(modes) - 1))
        mode = (
            np.asarray(modes, dtype=object)[day_idx] if modes else np.full(wt.shape[0], "off", dtype=object)
        )
        self.house = self._house_temperature(mode)
        n_restarts = int(rng.poisson(days / 14.0))
        self.restarts = sorted(float(x) for x in rng.uniform(self.t0, self.t1, n_restarts))
        self.restart_len = [float(rng.uniform(20, 60)) for _ in self.restarts]

    def _house_temperature(self, mode: np.ndarray) -> np.ndarray:
        """Hourly indoor temperature of the house: losses to outside, heating/cooling, gains."""
        w = self.weather
        n = w.t_s.shape[0]
        out = np.empty(n)
        heat = mode == "heat"
        cool = mode == "cool"
        sp = np.where(self.awake > 0, 21.0, np.where(self.n_home > 0, 18.5, 16.0))
        sp_cool = np.where(self.n_home > 0, 24.5, 28.0)
        solar = 0.35 * np.clip(np.sin(np.radians(np.maximum(w.elevation, 0.0))), 0, 1) * (1.0 - w.cloud)
        gains = 0.12 * self.awake + solar
        temp_out = w.temperature
        x = 20.0 if heat[0] else float(np.clip(temp_out[0] + 3.0, 16.0, 28.0))
        for k in range(n):
            out[k] = x
            x = x + 0.06 * (temp_out[k] - x) + gains[k]
            if heat[k] and x < sp[k]:
                x += min(1.2, 0.7 * (sp[k] - x))
            elif cool[k] and x > sp_cool[k]:
                x -= min(1.2, 0.7 * (x - sp_cool[k]))
        return out

    # ----------------------------------------------------------------- finishing a sensor

    def finish(
        self, entity_id: str, t: np.ndarray, v: np.ndarray, decimals: int, dropouts: bool = True
    ) -> None:
        """Quantize, add dropouts and restarts, drop repeats, and hand the sensor's changes to the buffer."""
        rng = self.rng
        scale = 10.0**decimals
        q = np.round(v * scale).astype(np.int64)
        if q.shape[0]:
            self.initial[entity_id] = self._fmt(int(q[0]), decimals)
        else:
            self.initial[entity_id] = "unknown"
        keep = np.ones(t.shape[0], dtype=bool)
        special_t: list[float] = []
        special_s: list[str] = []
        windows: list[tuple[float, float]] = []
        if dropouts:
            for _ in range(int(rng.poisson(len(self.clock.days) / 60.0))):
                a = float(rng.uniform(self.t0, self.t1))
                b = a + float(np.clip(30.0 * math.exp(1.1 * float(rng.normal())), 5.0, 480.0)) * 60.0
                windows.append((a, b))
                keep &= ~((t >= a) & (t < b))
                special_t.append(a)
                special_s.append("unavailable")
        for r, length in zip(self.restarts, self.restart_len, strict=True):
            keep &= ~((t >= r) & (t < r + length + 3.0))
            special_t += [r + float(rng.uniform(0, 2)), r + length + float(rng.uniform(0, 3))]
            special_s += ["unavailable", "unknown"]
        t, q = t[keep], q[keep]
        for a, b in windows:
            j = int(np.searchsorted(t, b))
            end = float(t[j]) if j < t.shape[0] else self.t1
            self.windows.append(
                UnavailableWindow(
                    entity_id=entity_id,
                    state="unavailable",
                    start=from_us(round(a * 1e6)),
                    end=from_us(round(end * 1e6)),
                )
            )
        uniq, inv = np.unique(q, return_inverse=True)
        table = np.asarray(
            [self.buffer.state_code(self._fmt(int(u), decimals)) for u in uniq.tolist()], dtype=np.int32
        )
        codes = table[inv] if q.shape[0] else np.empty(0, dtype=np.int32)
        if special_t:
            st = np.asarray(special_t)
            sc = np.asarray([self.buffer.state_code(s) for s in special_s], dtype=np.int32)
            t = np.concatenate([t, st])
            codes = np.concatenate([codes, sc])
            order = np.argsort(t, kind="stable")
            t, codes = t[order], codes[order]
        change = np.ones(codes.shape[0], dtype=bool)
        change[1:] = codes[1:] != codes[:-1]
        t_us = np.round(t[change] * 1e6).astype(np.int64)
        self.buffer.add_block(t_us, entity_id, codes[change])

    @staticmethod
    def _fmt(value: int, decimals: int) -> str:
        if decimals == 0:
            return str(value)
        sign = "-" if value < 0 else ""
        a = abs(value)
        whole, frac = divmod(a, 10**decimals)
        return f"{sign}{whole}.{frac:0{decimals}d}"

    # ----------------------------------------------------------------- kinds

    def times(self, kind: str) -> np.ndarray:
        lo, hi = _CADENCE[kind]
        return _report_times(self.t0, self.t1, lo, hi, self.rng)

    def indoor_temperature(self, info: SensorInfo) -> _Series:
        t = self.times("temp_in")
        w = self.weather
        kind = self.layout.area_kinds.get(info.area_id or "", "")
        offset = {"bathroom": 0.8, "bedroom": -0.7, "kitchen": 0.4, "basement": -2.5, "attic": 0.0}.get(
            kind, 0.0
        )
        base = self.house + offset + float(self.rng.normal(0.0, 0.4))
        if kind == "garage":
            base = 0.5 * self.house + 0.5 * w.temperature - 1.0
        elif kind == "attic":
            base = 0.7 * self.house + 0.3 * w.temperature
        base = base + _smooth_noise(self.rng, base.shape[0], 0.25, 6)
        v = np.interp(t, w.t_s, base) + self.rng.normal(0.0, 0.03, t.shape[0])
        return _Series(t, v)

    def _bumps(self, t: np.ndarray, role: str, height: float, tau_min: float) -> np.ndarray:
        entity = self.layout.roles.get(role)
        if entity is None or not self.planter.active.get(entity):
            return np.zeros(t.shape[0])
        starts = np.asarray(sorted(s / 1e6 for s, _ in self.planter.active[entity]))
        idx = np.searchsorted(starts, t, side="right") - 1
        dt = np.where(idx >= 0, t - starts[np.maximum(idx, 0)], np.inf)
        return np.where(dt < 6 * tau_min * 60, height * np.exp(-dt / (tau_min * 60.0)), 0.0)

    def indoor_humidity(self, info: SensorInfo) -> _Series:
        t = self.times("hum_in")
        w = self.weather
        base = np.clip(44.0 + 0.3 * (w.humidity - 75.0) + 0.45 * (w.temperature - 10.0), 25.0, 68.0)
        base = base + float(self.rng.normal(0.0, 3.0)) + _smooth_noise(self.rng, base.shape[0], 1.5, 8)
        v = np.interp(t, w.t_s, base) + self.rng.normal(0.0, 0.3, t.shape[0])
        kind = self.layout.area_kinds.get(info.area_id or "", "")
        if (
            kind == "bathroom"
            and info.area_id
            and self.layout.roles.get("bath_fan", "").endswith(info.area_id)
        ):
            v = v + self._bumps(t, "bath_fan", 30.0, 15.0)
        elif kind == "kitchen":
            v = v + self._bumps(t, "hood", 7.0, 25.0)
        return _Series(t, np.clip(v, 15.0, 99.0))

    def lux(self, info: SensorInfo, outdoor: bool) -> _Series:
        t = self.times("lux_out" if outdoor else "lux_in")
        elev = solar_elevation(self.latitude, self.longitude, t)
        cloud = np.interp(t, self.weather.t_s, self.weather.cloud)
        lux = _outdoor_lux(elev, cloud)
        if not outdoor:
            lux = lux * float(self.rng.uniform(0.004, 0.02))
        lux = lux * (1.0 + self.rng.normal(0.0, 0.03, t.shape[0]))
        return _Series(t, _sig2(np.maximum(lux, 0.0)))

    def co2(self) -> _Series:
        t = self.times("co2")
        n = self.weather.t_s.shape[0]
        target = 430.0 + 260.0 * self.n_home
        level = np.empty(n)
        x = float(target[0])
        for k in range(n):
            x += 0.5 * (target[k] - x)
            level[k] = x
        v = np.interp(t, self.weather.t_s, level) + self.rng.normal(0.0, 12.0, t.shape[0])
        return _Series(t, np.round(v / 5.0) * 5.0)

    def outdoor(self, kind: str) -> _Series:
        t = self.times(kind)
        if kind == "temp_out":
            v = self.weather.temperature_at(t) + self.rng.normal(0.0, 0.05, t.shape[0])
        else:
            v = np.clip(self.weather.humidity_at(t) + self.rng.normal(0.0, 0.4, t.shape[0]), 10.0, 100.0)
        return _Series(t, v)

    def power(self, entity_id: str, info: SensorInfo) -> _Series:
        """A plug's power: reports while its appliance runs, standby (a constant) otherwise."""
        rng = self.rng
        standby = float(rng.choice([0.0, 0.0, 0.3, 0.6, 1.1]))
        intervals = self.planter.active.get(info.link or "", []) if info.link else []
        if not intervals:
            return _Series(np.asarray([self.t0]), np.asarray([standby]))
        starts, ends = _arrays(intervals)
        ts = [np.asarray([self.t0])]
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            n = max(1, int((e - s) / 20.0) + 2)
            gaps = rng.uniform(20.0, 90.0, n)
            inner = s + float(rng.uniform(1, 3)) + np.concatenate([[0.0], np.cumsum(gaps)])
            ts.append(inner[inner < e])
            ts.append(np.asarray([e + float(rng.uniform(1, 3))]))
        t = np.concatenate(ts)
        t.sort(kind="stable")
        inside, idx = _in_intervals(t, starts, ends)
        dt = np.where(inside, t - starts[np.maximum(idx, 0)], 0.0)
        load = info.load_w or 50.0
        name = entity_id
        if "washing_machine" in name or "dishwasher" in name:
            heating = (dt < 20 * 60) | ((dt > 80 * 60) & (dt < 95 * 60) & ("dishwasher" in name))
            on_value = np.where(heating, load, 180.0 + rng.normal(0.0, 60.0, t.shape[0]))
        elif "coffee" in name:
            on_value = np.where(dt < 180.0, load, 55.0)
        elif "desk" in name:
            on_value = load * (0.6 + 0.5 * rng.random(t.shape[0]))
        else:
            on_value = np.full(t.shape[0], load)
        on_value = on_value * (1.0 + rng.normal(0.0, 0.012, t.shape[0]))
        v = np.where(inside, np.maximum(on_value, 1.0), standby)
        return _Series(t, v)

    def fridge(self) -> _Series:
        rng = self.rng
        n = int((self.t1 - self.t0) / (40 * 60)) + 4
        on_len = rng.uniform(12 * 60, 22 * 60, n)
        off_len = rng.uniform(25 * 60, 45 * 60, n)
        starts = (
            self.t0 + float(rng.uniform(0, 1800)) + np.concatenate([[0.0], np.cumsum(on_len + off_len)[:-1]])
        )
        ends = starts + on_len
        t_on = _report_times(self.t0, self.t1, 30.0, 120.0, rng)
        inside, _ = _in_intervals(t_on, starts, ends)
        t = np.concatenate([t_on[inside], starts + 1.5, ends + 1.5, [self.t0]])
        t = np.sort(t[t < self.t1])
        inside, idx = _in_intervals(t, starts, ends)
        dt = np.where(inside, t - starts[np.maximum(idx, 0)], 0.0)
        v = np.where(inside, np.where(dt < 5.0, 240.0, 86.0) + rng.normal(0.0, 2.5, t.shape[0]), 1.2)
        return _Series(t, v)

    def energy(self, source: _Series | None, kind: str = "energy") -> _Series:
        t = self.times(kind)
        e0 = float(self.rng.uniform(20.0, 900.0))
        if source is None or source.t.shape[0] == 0:
            return _Series(t, np.full(t.shape[0], e0))
        pt, pv = source.t, source.v
        cum = np.concatenate([[0.0], np.cumsum(pv[:-1] * np.diff(pt))]) / 3.6e6
        idx = np.searchsorted(pt, t, side="right") - 1
        before = idx < 0
        idx = np.maximum(idx, 0)
        v = e0 + np.where(before, 0.0, cum[idx] + pv[idx] * (t - pt[idx]) / 3.6e6)
        return _Series(t, v)

    def grid_power(self) -> _Series:
        t = self.times("grid_power")
        w = self.weather
        awake = np.interp(t, w.t_s, self.awake)
        v = 140.0 + 130.0 * awake + self.rng.normal(0.0, 12.0, t.shape[0])
        covered: set[str] = set()
        for eid, info in self.layout.sensors.items():
            if info.kind in ("power", "fridge") and eid in self.series:
                s = self.series[eid]
                idx = np.searchsorted(s.t, t, side="right") - 1
                v = v + np.where(idx >= 0, s.v[np.maximum(idx, 0)], 0.0)
                if info.link:
                    covered.add(info.link)
        for eid, load in self.layout.loads.items():
            if eid in covered or not self.planter.active.get(eid):
                continue
            starts, ends = _arrays(self.planter.active[eid])
            inside, _ = _in_intervals(t, starts, ends)
            v = v + inside * load
        return _Series(t, np.maximum(v, 50.0))

    def battery(self) -> _Series:
        t = self.times("battery")
        rng = self.rng
        start = float(rng.uniform(35.0, 100.0))
        per_day = float(rng.uniform(0.04, 0.25))
        level = start - per_day * (t - self.t0) / _DAY
        # Replaced at about 8 %: the level saws back to 100.
        span = 92.0
        level = np.where(level < 8.0, 100.0 - np.mod(8.0 - level, span), level)
        return _Series(t, np.floor(level))

    def uptime(self) -> _Series:
        t = self.times("uptime")
        boots = np.sort(
            self.rng.uniform(self.t0, self.t1, int(self.rng.poisson((self.t1 - self.t0) / (60 * _DAY))))
        )
        first_boot = self.t0 - float(self.rng.uniform(1, 40)) * _DAY
        all_boots = np.concatenate([[first_boot], boots])
        idx = np.searchsorted(all_boots, t, side="right") - 1
        return _Series(t, np.floor(t - all_boots[idx]))

    def download(self) -> _Series:
        t = self.times("download")
        nominal = float(self.rng.choice([50.0, 100.0, 250.0]))
        v = nominal * np.clip(0.93 + self.rng.normal(0.0, 0.04, t.shape[0]), 0.3, 1.0)
        dips = self.rng.random(t.shape[0]) < 0.03
        v = np.where(dips, v * self.rng.uniform(0.2, 0.7, t.shape[0]), v)
        return _Series(t, v)

    def wifi_clients(self) -> _Series:
        t = self.times("wifi_clients")
        n = np.interp(t, self.weather.t_s, self.n_home)
        v = 5.0 + 2.0 * np.round(n) + self.rng.integers(-1, 2, t.shape[0])
        return _Series(t, v)

    def weather_entity(self) -> None:
        w = self.weather
        inside = (w.t_s >= self.t0) & (w.t_s < self.t1)
        first = True
        for k in np.nonzero(inside)[0].tolist():
            attrs = {
                "temperature": round(float(w.temperature[k]), 1),
                "humidity": round(float(w.humidity[k])),
                "cloud_coverage": round(float(w.cloud[k]) * 100),
            }
            if first:
                self.initial["weather.home"] = w.condition[max(0, k - 1)]
                first = False
            t_us = round((float(w.t_s[k]) + float(self.rng.uniform(0, 30))) * 1e6)
            self.buffer.add(t_us, "weather.home", w.condition[k], attrs)


def plant_sensors(
    clock: Clock,
    layout: Layout,
    planter: Planter,
    weather: WeatherSeries,
    buffer: EventBuffer,
    rng: np.random.Generator,
    latitude: float,
    longitude: float,
) -> SensorPlant:
    """Produce every chatty sensor's reports, the weather entity, dropouts and restarts.

    Args:
        clock: The generated period.
        layout: The home's registry and sensor kinds.
        planter: The planted behaviour (occupancy and appliance activity drive the sensors).
        weather: The hourly weather.
        buffer: Receives the state changes.
        rng: The seeded generator for sensors.
        latitude: Degrees north (daylight for the light sensors).
        longitude: Degrees east.

    Returns:
        Initial states of the sensors and the noise truth.
    """
    s = _Sensors(clock, layout, planter, weather, buffer, rng, latitude, longitude)
    # Energy meters integrate their power sensor, and the grid meter sums every load: those go last.
    items = sorted(
        layout.sensors.items(),
        key=lambda kv: ({"energy": 1, "grid_power": 2, "grid_energy": 3}.get(kv[1].kind, 0), kv[0]),
    )
    for eid, info in items:
        k = info.kind
        if k == "temp_in":
            series = s.indoor_temperature(info)
        elif k == "hum_in":
            series = s.indoor_humidity(info)
        elif k in ("lux_in", "lux_out"):
            series = s.lux(info, outdoor=k == "lux_out")
        elif k == "co2":
            series = s.co2()
        elif k in ("temp_out", "hum_out"):
            series = s.outdoor(k)
        elif k == "power":
            series = s.power(eid, info)
        elif k == "fridge":
            series = s.fridge()
        elif k == "energy":
            series = s.energy(s.series.get(info.link or ""))
        elif k == "grid_power":
            series = s.grid_power()
        elif k == "grid_energy":
            grid = next((x for x, i in layout.sensors.items() if i.kind == "grid_power"), None)
            series = s.energy(s.series.get(grid or ""), kind="grid_energy")
        elif k == "battery":
            series = s.battery()
        elif k == "uptime":
            series = s.uptime()
        elif k == "download":
            series = s.download()
        elif k == "wifi_clients":
            series = s.wifi_clients()
        else:
            continue
        if k in ("power", "fridge", "grid_power"):
            s.series[eid] = series  # read again by the energy meters and the grid meter
        s.finish(eid, series.t, series.v, _DECIMALS[k])
        del series
    s.weather_entity()
    diagnostic = [e.entity_id for e in layout.entities if e.entity_category == "diagnostic"]
    noise = NoiseTruth(
        chatty_entities=sorted([*layout.sensors, "weather.home"]),
        diagnostic_entities=diagnostic,
        background_entities=sorted(planter.background_entities),
        unavailable=sorted(s.windows, key=lambda w: (w.start, w.entity_id)),
        restarts=[from_us(round(r * 1e6)) for r in s.restarts],
    )
    return SensorPlant(s.initial, noise)
