"""The tick: composes genome/ with the model, git and the shell."""
