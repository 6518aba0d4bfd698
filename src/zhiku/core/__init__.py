"""Settings, the error hierarchy and shared types. Imports nothing else of Zhiku's."""
