/// The eval layer: metrics and reports over models and data.
@_exported import Titans
@_exported import TitansData
