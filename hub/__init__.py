"""The GraphQL API of the member hub: app factory, auth, resolvers, CLI."""
