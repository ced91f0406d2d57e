"""Where observations come from: CSV replay (offline default), on-chain pools, exchanges."""

from oracle.sources.base import Candles, Observation, Source, SourceExhausted

__all__ = ["Candles", "Observation", "Source", "SourceExhausted"]
