"""The only code that talks to the network: package indexes behind one protocol."""
