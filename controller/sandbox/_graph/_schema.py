"""The properties of each Graph v1.0 entity type the sandbox serves, for ``$select``.

Graph answers 400 to a ``$select`` naming a property its type does not have ("Could not find a
property named 'x' on type 'microsoft.graph.user'."), and null for one the type has but the
object does not set. The lists are the structural and navigation properties of the v1.0
metadata, as the resource pages list them (api-reference/v1.0/resources/user.md, group.md,
serviceprincipal.md, application.md, organization.md, subscribedsku.md, approleassignment.md,
unifiedroleassignment.md, riskyuser.md, userregistrationdetails.md,
delegatedadmincustomer.md, delegatedadminrelationship.md).
"""

from __future__ import annotations

from collections.abc import Iterable

PROPERTIES: dict[str, frozenset[str]] = {
    "user": frozenset(
        """
        aboutMe accountEnabled activities adhocCalls ageGroup agreementAcceptances
        appRoleAssignments assignedLicenses assignedPlans authentication authorizationInfo
        birthday businessPhones calendar calendarGroups calendarView calendars chats city
        cloudClipboard cloudPCs companyName consentProvidedForMinor contactFolders contacts
        country createdDateTime createdObjects creationType customSecurityAttributes
        dataSecurityAndGovernance deletedDateTime department deviceEnrollmentLimit
        deviceManagementTroubleshootingEvents directReports displayName drive drives
        employeeExperience employeeHireDate employeeId employeeLeaveDateTime employeeOrgData
        employeeType events extensions externalUserState externalUserStateChangeDateTime
        faxNumber followedSites givenName hireDate id identities identityParentId imAddresses
        inferenceClassification insights interests isManagementRestricted isResourceAccount
        jobTitle joinedTeams lastPasswordChangeDateTime legalAgeGroupClassification
        licenseAssignmentStates licenseDetails mail mailFolders mailNickname mailboxSettings
        managedAppRegistrations managedDevices manager memberOf messages mobilePhone mySite
        notes oauth2PermissionGrants officeLocation onPremisesDistinguishedName
        onPremisesDomainName onPremisesExtensionAttributes onPremisesImmutableId
        onPremisesLastSyncDateTime onPremisesProvisioningErrors onPremisesSamAccountName
        onPremisesSecurityIdentifier onPremisesSyncBehavior onPremisesSyncEnabled
        onPremisesUserPrincipalName onenote onlineMeetings otherMails outlook ownedDevices
        ownedObjects passwordPolicies passwordProfile pastProjects people permissionGrants photo
        photos planner postalCode preferredDataLocation preferredLanguage preferredName presence
        print provisionedPlans proxyAddresses registeredDevices responsibilities schools
        scopedRoleMemberOf securityIdentifier serviceProvisioningErrors settings
        showInAddressList signInActivity signInSessionsValidFromDateTime skills solutions
        sponsorOf sponsors state streetAddress surname teamwork todo transitiveMemberOf
        usageLocation userPrincipalName userType
        """.split()
    ),
    "group": frozenset(
        """
        acceptedSenders accessType allowExternalSenders appRoleAssignments assignedLabels
        assignedLicenses autoSubscribeNewMembers calendar calendarView classification
        conversations createdDateTime createdOnBehalfOf deletedDateTime description displayName
        drive drives events expirationDateTime extensions groupLifecyclePolicies groupTypes
        hasMembersWithLicenseErrors hideFromAddressLists hideFromOutlookClients id infoCatalogs
        isArchived isAssignableToRole isFavorite isManagementRestricted isSubscribedByMail
        licenseProcessingState mail mailEnabled mailNickname memberOf members
        membersWithLicenseErrors membershipRule membershipRuleProcessingState
        onPremisesDomainName onPremisesExtensionAttributes onPremisesLastSyncDateTime
        onPremisesNetBiosName onPremisesProvisioningErrors onPremisesSamAccountName
        onPremisesSecurityIdentifier onPremisesSyncBehavior onPremisesSyncEnabled onenote
        organizationId owners permissionGrants photo photos planner preferredDataLocation
        preferredLanguage proxyAddresses rejectedSenders renewedDateTime resourceBehaviorOptions
        resourceProvisioningOptions securityEnabled securityIdentifier serviceProvisioningErrors
        settings sites team theme threads transitiveMemberOf transitiveMembers uniqueName
        unseenConversationsCount unseenCount unseenMessagesCount visibility
        welcomeMessageEnabled
        """.split()
    ),
    "servicePrincipal": frozenset(
        """
        accountEnabled addIns alternativeNames appDescription appDisplayName appId
        appManagementPolicies appOwnerOrganizationId appRoleAssignedTo appRoleAssignmentRequired
        appRoleAssignments appRoles applicationTemplateId claimsMappingPolicies createdByAppId
        createdObjects customSecurityAttributes delegatedPermissionClassifications
        deletedDateTime description disabledByMicrosoftStatus displayName endpoints
        federatedIdentityCredentials homeRealmDiscoveryPolicies homepage id info isDisabled
        keyCredentials loginUrl logoutUrl memberOf notes notificationEmailAddresses
        oauth2PermissionGrants oauth2PermissionScopes ownedObjects owners passwordCredentials
        preferredSingleSignOnMode preferredTokenSigningKeyThumbprint
        remoteDesktopSecurityConfiguration replyUrls resourceSpecificApplicationPermissions
        samlSingleSignOnSettings servicePrincipalNames servicePrincipalType signInAudience
        synchronization tags tokenEncryptionKeyId tokenIssuancePolicies tokenLifetimePolicies
        transitiveMemberOf verifiedPublisher
        """.split()
    ),
    # api-reference/v1.0/resources/application.md (properties and relationships)
    "application": frozenset(
        """
        addIns api appId applicationTemplateId appRoles createdDateTime createdOnBehalfOf
        deletedDateTime disabledByMicrosoftStatus displayName extensionProperties
        groupMembershipClaims id identifierUris info isDeviceOnlyAuthSupported
        isFallbackPublicClient keyCredentials logo notes oauth2RequiredPostResponse
        optionalClaims owners parentalControlSettings passwordCredentials publicClient
        publisherDomain requiredResourceAccess signInAudience spa tags tokenEncryptionKeyId
        verifiedPublisher web
        """.split()
    ),
    "organization": frozenset(
        """
        assignedPlans branding businessPhones certificateBasedAuthConfiguration city country
        countryLetterCode createdDateTime defaultUsageLocation deletedDateTime displayName
        extensions id marketingNotificationEmails mobileDeviceManagementAuthority
        onPremisesLastSyncDateTime onPremisesSyncEnabled partnerTenantType postalCode
        preferredLanguage privacyProfile provisionedPlans securityComplianceNotificationMails
        securityComplianceNotificationPhones state street technicalNotificationMails tenantType
        verifiedDomains
        """.split()
    ),
    "subscribedSku": frozenset(
        """
        accountId accountName appliesTo capabilityStatus consumedUnits id prepaidUnits
        servicePlans skuId skuPartNumber subscriptionIds
        """.split()
    ),
    "appRoleAssignment": frozenset(
        """
        appRoleId createdDateTime deletedDateTime id principalDisplayName principalId
        principalType resourceDisplayName resourceId
        """.split()
    ),
    "unifiedRoleAssignment": frozenset(
        """
        appScope appScopeId condition directoryScope directoryScopeId id principal principalId
        principalOrganizationId roleDefinition roleDefinitionId
        """.split()
    ),
    "riskyUser": frozenset(
        """
        history id isDeleted isProcessing riskDetail riskLastUpdatedDateTime riskLevel riskState
        userDisplayName userPrincipalName
        """.split()
    ),
    "userRegistrationDetails": frozenset(
        """
        id isAdmin isMfaCapable isMfaRegistered isPasswordlessCapable isSsprCapable
        isSsprEnabled isSsprRegistered isSystemPreferredAuthenticationMethodEnabled
        lastUpdatedDateTime methodsRegistered systemPreferredAuthenticationMethods
        userDisplayName userPreferredMethodForSecondaryAuthentication userPrincipalName userType
        """.split()
    ),
    "delegatedAdminCustomer": frozenset(
        """
        displayName id serviceManagementDetails tenantId
        """.split()
    ),
    "delegatedAdminRelationship": frozenset(
        """
        accessAssignments accessDetails activatedDateTime autoExtendDuration createdDateTime
        customer displayName duration endDateTime id lastModifiedDateTime operations requests
        status
        """.split()
    ),
}
# A directory object (group members, directoryObjects/{id}, deleted items) is one of these.
DIRECTORY_OBJECT = ("user", "group", "servicePrincipal")


def unknown_property(fields: Iterable[str], types: tuple[str, ...]) -> str | None:
    """The first of ``fields`` that none of ``types`` has (annotations such as
    ``@odata.type`` aside), or None."""
    known = frozenset().union(*(PROPERTIES[t] for t in types))
    for name in fields:
        if name and name not in known and not name.startswith("@"):
            return name
    return None
