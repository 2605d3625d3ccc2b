from django.urls import path

from . import views

app_name = "careplans"
urlpatterns = [
    path("patient/<int:patient_id>/", views.patient_plans, name="patient"),
    path("patient/<int:patient_id>/generate/", views.plan_generate, name="generate"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/status/", views.plan_status, name="status"),
    path("<int:pk>/goals/", views.goal_add, name="goal_add"),
    path("<int:pk>/interventions/", views.intervention_add, name="intervention_add"),
    path("<int:pk>/tasks/", views.task_add, name="task_add"),
    path("<int:pk>/barriers/", views.barrier_add, name="barrier_add"),
    path("goals/<int:pk>/status/", views.goal_status, name="goal_status"),
    path("tasks/mine/", views.my_tasks, name="my_tasks"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/reassign/", views.task_reassign, name="task_reassign"),
    path("tasks/<int:pk>/status/", views.task_status, name="task_status"),
    path("tasks/<int:pk>/reschedule/", views.task_reschedule, name="task_reschedule"),
    path("<int:pk>/resources/refresh/", views.plan_resources_refresh, name="resources_refresh"),
    path("barriers/<int:pk>/resolve/", views.barrier_resolve, name="barrier_resolve"),
    path("barriers/<int:pk>/update/", views.barrier_update, name="barrier_update"),
    path("resources/", views.resource_list, name="resources"),
    path("resources/new/", views.resource_create, name="resource_create"),
    path("resources/<int:pk>/edit/", views.resource_edit, name="resource_edit"),
]
