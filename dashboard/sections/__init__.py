"""Sections of the longer pages: each function draws one part of a page (its figures,
equations and the sentences that explain them) from numbers the page computed, so the
page itself reads as a short list of widgets and calls."""
