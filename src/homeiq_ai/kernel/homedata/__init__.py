"""The home: areas, devices, entities and state-change events, from whichever source the install uses."""
