"""The workspace-wide conversation log: every stored conversation of every assistant and
channel, filtered and paged; corrections of logged answers; refused questions grouped."""
