"""Cases: the agencies directory, the case workflow and its legal deadlines (working-day clocks).

A capability layer between the runtime and the insights: it reads and writes through ``store`` and
never imports the analysis stages; the API, the CLI and the runtime use it.
"""
